// The child of crash.test.ts: opens (or creates) an image with the bundled @isola/qcow2 and does random
// allocating writes until it is killed. Before each write it prints "begin <seq> <offset> <length> <kind>",
// after the write resolves "ack <seq>": the parent then knows which writes must read back and which one
// may be half done. Content is a function of seq (crash-fill.mjs), so the parent regenerates it.
// With options.snapshots it also takes and deletes internal snapshots, which do not change the disk.
// Usage: node crash-writer.mjs <bundle.mjs> <image> <json options> <first seq> <seed>
const [bundle, path, optionsJson, firstSeq, seed] = process.argv.slice(2);
const { createImage, openImage } = await import(bundle);
const options = JSON.parse(optionsJson);
const { existsSync } = await import('node:fs');
const { fill } = await import('./crash-fill.mjs');

let state = Number(seed) >>> 0;
const next = (n) => {
  state = (state * 1103515245 + 12345) % 2 ** 31;
  return Math.floor((state / 2 ** 31) * n);
};

const image = existsSync(path) ? await openImage(path) : await createImage(path, options);
process.stdout.write('ready\n');
const cs = options.clusterSize;
// Rounds of 1 to 4 concurrent writes, each in its own slice of the disk (so they never overlap): the
// writes of a round share barriers (group commit), and any of them may be in flight at the kill.
for (let seq = Number(firstSeq); ; ) {
  // Snapshot churn (content-neutral): take one now and then, keeping at most two.
  if (options.snapshots && (image.snapshots.length === 0 || next(25) === 0)) {
    if (image.snapshots.length >= 2) await image.deleteSnapshot(image.snapshots[0].id);
    await image.createSnapshot(`s${seq}`);
  }
  const k = 1 + next(4);
  const slice = Math.floor(image.size / k);
  const round = [];
  for (let i = 0; i < k; i++, seq++) {
    const length = 1 + next(Math.min(cs * 3, slice));
    const offset = i * slice + next(slice - length + 1);
    const kind = next(10) === 0 ? 'zero' : 'data';
    process.stdout.write(`begin ${seq} ${offset} ${length} ${kind}\n`);
    const done = kind === 'zero' ? image.writeZeroes(offset, length) : image.write(fill(seq, length), offset);
    const s = seq;
    round.push(done.then(() => process.stdout.write(`ack ${s}\n`)));
  }
  await Promise.all(round);
  // A large read now and then: runs the batch (WASM) cluster mapper inside the bundle too.
  if (next(8) === 0) await image.read(Buffer.alloc(Math.min(image.size, 64 * cs)), 0);
}
