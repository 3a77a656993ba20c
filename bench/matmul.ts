// Quantized matmul (linear: y = x W^T) throughput per weight type, shape and backend, for
// TinyLlama's weight shapes. Prints milliseconds per product and GB/s of weight bytes read (the
// figure that bounds decoding speed), plus GFLOP/s for matrix-matrix products.
//
// Run: npm run bench:matmul [-- OPTIONS]
//   --backends=cpu,webgpu        which backends (default both)
//   --webgpu=vulkan              Dawn backend for webgpu (default: the default adapter)
//   --types=Q4_0,Q4_K,...        weight types (default every type with a codec)
//   --shapes=2048x2048,...       [out]x[in] (default TinyLlama's: 2048x2048 256x2048 5632x2048 2048x5632 32000x2048)
//   --tokens=1,32                activation rows: 1 = matrix-vector (decoding), more = matrix-matrix
//   --reps=3                     timed repetitions after one warm-up (median reported)
//   --activations=llama.cpp      quantize activations as llama.cpp does (Q8 integer dot products)
//
// Weights are synthesized with our quantizers: a slab of 16 random rows per type is quantized and
// repeated down the matrix (quantizing 65M values per type would take longer than the benchmark).
import { Tensor, realize, scope, type Backend } from '../src/tensor';
import { CpuBackend } from '../src/backend/cpu';
import { openWebGPU, type DawnBackend, type WebGPUBackend } from '../src/backend/webgpu';
import { byteSize, codecTypes, quantize, typeByName } from '../src/quant';
import { rng } from '../test/helpers/tiny-gguf';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const list = (name: string, fallback: string) => (args.get(name) ?? fallback).split(',').filter(Boolean);

const backends = list('backends', 'cpu,webgpu');
const types = list('types', codecTypes().map((t) => t.name).join(','));
const shapes = list('shapes', '2048x2048,256x2048,5632x2048,2048x5632,32000x2048').map((s) => s.split('x').map(Number) as [number, number]);
const tokenCounts = list('tokens', '1,32').map(Number);
const reps = Number(args.get('reps') ?? 3);
const llamaActivations = args.get('activations') === 'llama.cpp';

/** ggml's CPU activation type per weight type (vec_dot_type), for --activations=llama.cpp. */
const ACTIVATION_TYPE: Record<string, string> = {
  F16: 'F16', BF16: 'BF16', Q4_0: 'Q8_0', Q5_0: 'Q8_0', Q8_0: 'Q8_0', IQ4_NL: 'Q8_0', Q4_1: 'Q8_1', Q5_1: 'Q8_1', Q8_1: 'Q8_1',
  Q2_K: 'Q8_K', Q3_K: 'Q8_K', Q4_K: 'Q8_K', Q5_K: 'Q8_K', Q6_K: 'Q8_K', Q8_K: 'Q8_K', IQ4_XS: 'Q8_K',
};

const SLAB_ROWS = 16;
const next = rng(11);

/** Raw blocks of an [out, width] weight: a quantized slab of random rows, repeated. */
function syntheticWeight(type: string, out: number, width: number): Uint8Array {
  const slab = quantize(type, Float32Array.from({ length: SLAB_ROWS * width }, () => (next() - 0.5) * 0.04));
  const bytes = new Uint8Array(byteSize(typeByName(type)!, out * width));
  for (let o = 0; o < bytes.length; o += slab.length) bytes.set(slab.subarray(0, Math.min(slab.length, bytes.length - o)), o);
  return bytes;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Milliseconds per product: the CPU computes as kernels are queued; WebGPU queues them all, then waits once. */
async function timeLinear(backend: Backend, x: Tensor, w: Tensor, activationType: string | null): Promise<number> {
  const once = () => x.linear(w, { activationType });
  const warm = once();
  await warm.data();
  warm.dispose();
  if (backend.name === 'cpu') {
    const times: number[] = [];
    for (let r = 0; r < reps; r++) {
      const start = performance.now();
      const y = once();
      await realize(y);
      times.push(performance.now() - start);
      y.dispose();
    }
    return median(times);
  }
  const start = performance.now();
  const ys: Tensor[] = [];
  for (let r = 0; r < reps; r++) {
    const y = once();
    await realize(y);
    ys.push(y);
  }
  await ys[ys.length - 1].data();
  const ms = (performance.now() - start) / reps;
  for (const y of ys) y.dispose();
  return ms;
}

async function open(name: string): Promise<Backend> {
  if (name === 'cpu') return new CpuBackend();
  return openWebGPU({ backend: args.get('webgpu') as DawnBackend | undefined });
}

async function main(): Promise<void> {
  console.log(`linear y = x W^T, median of ${reps} after a warm-up (node ${process.version}); activations: ${llamaActivations ? "llama.cpp's types" : 'f32'}`);
  for (const name of backends) {
    const backend = await open(name);
    console.log(`\n${backend.description}`);
    console.log('type     shape (out x in)  tokens        ms    GB/s weights   GFLOP/s');
    for (const type of types) {
      for (const [out, width] of shapes) {
        await scope(async () => {
          const bytes = syntheticWeight(type, out, width);
          const w = Tensor.fromBlocks(bytes, type, [out, width], { backend });
          for (const tokens of tokenCounts) {
            const x = Tensor.from(Float32Array.from({ length: tokens * width }, () => next() - 0.5), [tokens, width], { backend });
            const ms = await timeLinear(backend, x, w, llamaActivations ? ACTIVATION_TYPE[type] ?? null : null);
            const gbs = bytes.length / (ms * 1e6);
            const gflops = (2 * tokens * out * width) / (ms * 1e6);
            console.log(`${type.padEnd(8)} ${`${out}x${width}`.padEnd(17)} ${String(tokens).padStart(6)} ${ms.toFixed(2).padStart(9)} ${gbs.toFixed(2).padStart(14)} ${gflops.toFixed(1).padStart(9)}`);
          }
        }, backend);
      }
    }
    if (backend.name === 'webgpu') (backend as WebGPUBackend).destroy();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
