#!/usr/bin/env python3
# Runs a command N times; prints one "wall_ms cpu_ms" line per run, cpu being user+system time of the
# command and everything it waited for (RUSAGE_CHILDREN, microseconds): under load from other processes
# CPU time moves far less than wall time. Usage: rusage.py N command [args...]
import resource, subprocess, sys, time

def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime

runs, command = int(sys.argv[1]), sys.argv[2:]
for i in range(runs):
    args = [a.replace('{i}', str(i)) for a in command]
    c0, t0 = cpu(), time.perf_counter()
    done = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t1, c1 = time.perf_counter(), cpu()
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)}: exit {done.returncode}: {done.stderr.decode().strip()}")
    print(f"{(t1 - t0) * 1000:.3f} {(c1 - c0) * 1000:.3f}")
