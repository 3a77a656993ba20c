// Dequantization throughput per type on this machine (single thread, the CPU reference codecs).
// Run: npm run bench:dequant [-- VALUES]   (default 4M values per type)
// Prints GB/s of float32 written and of quantized bytes read, median of 7 runs after a warm-up.
import { codecTypes, byteSize } from '../src/quant/types';
import { rng } from '../test/helpers/tiny-gguf';

const values = Number(process.argv[2] ?? 4 * 1024 * 1024);
const next = rng(7);
const source = Float32Array.from({ length: values }, () => (next() - 0.5) * 0.1);

console.log(`dequantize ${values} values per type, single thread, median of 7 (node ${process.version})`);
console.log('type     ms      GB/s out (f32)   GB/s in (blocks)');
for (const t of codecTypes()) {
  const bytes = new Uint8Array(byteSize(t, values));
  t.codec!.quantize(source, bytes);
  const out = new Float32Array(values);
  t.codec!.dequantize(bytes, out); // warm-up
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const start = process.hrtime.bigint();
    t.codec!.dequantize(bytes, out);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const ms = times.sort((a, b) => a - b)[3];
  const gbOut = (values * 4) / (ms * 1e6);
  const gbIn = bytes.length / (ms * 1e6);
  console.log(`${t.name.padEnd(8)} ${ms.toFixed(2).padStart(7)}  ${gbOut.toFixed(2).padStart(8)}         ${gbIn.toFixed(2).padStart(8)}`);
}
