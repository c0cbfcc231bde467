// How long a vCPU worker waits when it hands an access to the main thread and blocks for the answer,
// the design isola would need for devices shared between vCPUs: a SharedArrayBuffer mailbox with
// Atomics.wait in the worker and Atomics.waitAsync on the main thread, next to a postMessage
// round trip and to a plain function call in the worker (where isola's devices live today).
//   node bench/vmm/roundtrip.mjs [round trips]
import { MessageChannel, Worker } from 'node:worker_threads';

const N = Number(process.argv[2] ?? 20000);
const waitAsync = Atomics.waitAsync;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function atomics() {
  const box = new Int32Array(new SharedArrayBuffer(16)); // [0] = sequence of requests, [1] = replies, [2] = value
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const box = new Int32Array(workerData.buffer);
     const times = [];
     for (let i = 1; i <= workerData.n; i++) {
       const t = process.hrtime.bigint();
       Atomics.store(box, 2, i); Atomics.store(box, 0, i); Atomics.notify(box, 0);
       while (Atomics.load(box, 1) !== i) Atomics.wait(box, 1, i - 1);
       times.push(Number(process.hrtime.bigint() - t));
     }
     require('node:worker_threads').parentPort.postMessage(times);`,
    { eval: true, workerData: { buffer: box.buffer, n: N } },
  );
  const done = new Promise((resolve) => worker.once('message', resolve));
  let served = 0;
  while (served < N) {
    const seen = Atomics.load(box, 0);
    if (seen === served) {
      const w = waitAsync(box, 0, served);
      if (w.async) await w.value;
      continue;
    }
    served = seen;
    Atomics.store(box, 1, served);
    Atomics.notify(box, 1);
  }
  const times = await done;
  await worker.terminate();
  return median(times) / 1000;
}

async function messages() {
  // The worker polls its port (it cannot yield to its event loop inside a vCPU loop); replies wake it via the box.
  const { port1, port2 } = new MessageChannel();
  const box = new Int32Array(new SharedArrayBuffer(4));
  const w2 = new Worker(
    `const { parentPort, workerData, receiveMessageOnPort } = require('node:worker_threads');
     const { port } = workerData;
     const box = new Int32Array(workerData.buffer);
     const times = [];
     for (let i = 1; i <= workerData.n; i++) {
       const t = process.hrtime.bigint();
       parentPort.postMessage(i);
       let m;
       while (!(m = receiveMessageOnPort(port))) Atomics.wait(box, 0, Atomics.load(box, 0));
       times.push(Number(process.hrtime.bigint() - t));
     }
     parentPort.postMessage({ times });`,
    { eval: true, workerData: { port: port2, n: N, buffer: box.buffer }, transferList: [port2] },
  );
  return new Promise((resolve) => {
    w2.on('message', (m) => {
      if (typeof m === 'number') {
        port1.postMessage(m);
        Atomics.add(box, 0, 1);
        Atomics.notify(box, 0);
      } else {
        w2.terminate();
        port1.close();
        resolve(median(m.times) / 1000);
      }
    });
  });
}

function local() {
  const data = new Uint8Array(1);
  const device = { value: 0, write(d) { this.value = d[0]; }, read(d) { d[0] = this.value; } };
  const times = [];
  for (let i = 0; i < N; i++) {
    const t = process.hrtime.bigint();
    data[0] = i;
    device.write(data);
    device.read(data);
    times.push(Number(process.hrtime.bigint() - t));
  }
  return median(times) / 1000;
}

const result = { roundTrips: N, localCallUs: local(), atomicsUs: await atomics(), postMessageUs: await messages() };
console.log(JSON.stringify(result));
