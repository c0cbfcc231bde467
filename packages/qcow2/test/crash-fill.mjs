// The content of write number `seq` in the crash test: a function of seq alone, so the test process
// regenerates exactly what its child wrote.
export function fill(seq, length) {
  const buf = Buffer.allocUnsafe(length);
  let x = (seq * 2654435761) >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    buf[i] = x >>> 24;
  }
  return buf;
}
