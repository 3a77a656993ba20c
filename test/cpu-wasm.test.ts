// The CPU backend's WASM SIMD fast path: its heap allocator, and its kernels against the
// TypeScript reference kernels (ops/ggml-dot.ts), which reproduce llama.cpp's rounding — the fast
// path must give the same float32 bits, on any number of threads.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CpuBackend } from '../src/backend/cpu';
import { WasmHeap, HeapExhausted } from '../src/backend/cpu/wasm/heap';
import { Tensor, type Backend } from '../src/tensor';
import { typeByName } from '../src/quant/types';
import { LlamaModel } from '../src/model/llama';
import { modelPath } from './helpers/references';
import { bitsEqual, random, SIMD_BUILDS } from './helpers/fast-path';
import { relaxedSimdUnavailable } from '../src/backend/cpu/wasm/runtime';
import { fma32, GGML_SIMD, useGgmlSimd, vSilu } from '../src/backend/cpu/ops/ggml-float';
import { ropeAngles } from '../src/backend/cpu/ops/rope';
import { F16_TO_F32, f32ToF16 } from '../src/quant/half';
import { claimPart, closedClaim, firstClaim, JOB_MASK, MAX_PARTS } from '../src/backend/cpu/wasm/claim-part.cjs';
import type { ThreadPool } from '../src/backend/cpu/wasm/threads';

const roundToF16 = (x: number) => F16_TO_F32[f32ToF16(x)];

/** Weights of `type` from values with the spread of trained weights, plus an all-zero row block. */
function quantizedWeight(type: string, out: number, width: number, seed: number): Uint8Array {
  const t = typeByName(type)!;
  const next = random(seed);
  const values = new Float32Array(out * width).map((_, i) => (i < 64 ? 0 : next() * (i % 7 === 0 ? 2 : 0.1)));
  const bytes = new Uint8Array((out * width / t.blockSize) * t.typeSize);
  t.codec!.quantize(values, bytes);
  return bytes;
}

describe('CPU fast path: WASM heap', () => {
  it('aligns to 64 bytes, reuses freed ranges, merges neighbours and lowers the top', () => {
    const heap = new WasmHeap(1000, 1);
    const a = heap.allocate(10);
    const b = heap.allocate(100);
    const c = heap.allocate(64);
    assert.equal(a, 1024);
    assert.equal(b, a + 64);
    assert.equal(c, b + 128);
    assert.equal(heap.held, 256);
    heap.release(a, 10);
    assert.equal(heap.allocate(50), a, 'a freed range of the right size is reused');
    heap.release(a, 50);
    heap.release(b, 100);
    assert.equal(heap.allocate(190), a, 'two freed neighbours merge into one range');
    heap.release(a, 190);
    heap.release(c, 64);
    assert.equal(heap.held, 0);
    assert.equal(heap.allocate(1), 1024, 'freeing everything lowers the top to the heap base');
  });

  it('grows the memory as needed and refuses what wasm32 cannot address, naming the sizes', () => {
    const heap = new WasmHeap(0, 1);
    const big = heap.allocate(3 * 65536);
    assert.ok(heap.memory.buffer.byteLength >= big + 3 * 65536);
    assert.throws(() => heap.allocate(2 ** 32), (e: unknown) => e instanceof HeapExhausted && e.requested === 2 ** 32 && e.held === 3 * 65536);
  });
});

describe('CPU fast path: worker threads', () => {
  it('a late thread claims nothing of a job that is over, nor of the job after it', () => {
    const ctl = new Int32Array(new SharedArrayBuffer(4));
    ctl[0] = firstClaim(41);
    assert.deepEqual([0, 1, 2, 3].map(() => claimPart(ctl, 0, 41, 3)), [0, 1, 2, -1]);
    ctl[0] = firstClaim(42); // the next job is posted: a thread still on job 41 gets nothing of it
    assert.equal(claimPart(ctl, 0, 41, 3), -1);
    assert.equal(claimPart(ctl, 0, 42, 2), 0);
    ctl[0] = closedClaim(43); // job 43 being written: nothing of it, nor of 42, can be claimed
    assert.equal(claimPart(ctl, 0, 42, MAX_PARTS - 1), -1);
    assert.equal(claimPart(ctl, 0, 43, MAX_PARTS - 1), -1);
    ctl[0] = firstClaim(JOB_MASK);
    assert.equal(claimPart(ctl, 0, JOB_MASK, MAX_PARTS - 1), 0, 'the highest job number');
  });

  // More threads than this machine has cores, so workers are preempted between and during jobs:
  // a worker that wakes after its job is over must claim nothing of it, and never run a later
  // job's parts with an earlier job's kernel, arguments or part count (threads.ts). Jobs alternate
  // between two kernels of different arity and vary their part count, each from its own input
  // into its own output: any part run with another job's kernel, pointers or split leaves a gap or
  // a wrong value (or a count of finished parts that never matches: a stall).
  it('runs hundreds of back-to-back jobs with different kernels, arguments and part counts exactly once each, 3 threads', () => {
    const rt = new CpuBackend({ kernels: 'wasm', threads: 3 }).wasm!;
    // the pool itself, to choose each job's part count (runtime.ts picks 8 per thread, or 1)
    const { pool, exports } = rt as unknown as { pool: ThreadPool; exports: Record<string, (...args: number[]) => void> };
    const n = 1 << 14;
    const slots = 5;
    const inputs = Array.from({ length: slots }, () => rt.heap.allocate(4 * n));
    const outputs = Array.from({ length: slots }, () => rt.heap.allocate(4 * n));
    const next = random(7);
    try {
      for (let job = 0; job < 1500; job++) {
        const slot = job % slots;
        const x = rt.heap.f32(inputs[slot], n).fill(job / 7);
        for (let i = 0; i < n; i += 997) x[i] = next() * 20;
        const out = rt.heap.f32(outputs[slot], n).fill(NaN);
        const silu = job % 2 === 1;
        const name = silu ? 'silu_ggml' : 'round_to_f16';
        const args = silu ? [inputs[slot], n, outputs[slot], GGML_SIMD === 'avx512' ? 1 : 0] : [inputs[slot], n, outputs[slot]];
        pool.run(name, args, 1 + ((job * 7) % 24), (part, parts) => exports[name](...args, part, parts));
        for (let i = 0; i < n; i++) {
          const expected = silu ? Math.fround(vSilu(x[i])) : roundToF16(x[i]);
          if (out[i] !== expected) assert.fail(`job ${job} (${name}): value ${i} is ${out[i]}, not ${expected}`);
        }
      }
    } finally {
      for (const offset of [...inputs, ...outputs]) rt.heap.release(offset, 4 * n);
    }
  });

  it("a worker's error never fails the next job, also when this thread failed too and threw its own", () => {
    const rt = new CpuBackend({ kernels: 'wasm', threads: 2 }).wasm!;
    const { pool, exports } = rt as unknown as { pool: ThreadPool; exports: Record<string, (...a: number[]) => void> };
    const bytes = 8 << 16; // eight parts of 64 KiB (read-file.cjs's smallest)
    const dest = rt.heap.allocate(bytes);
    const x = rt.heap.allocate(4 * 4096);
    const pause = new Int32Array(new SharedArrayBuffer(4));
    try {
      for (let round = 0; round < 20; round++) {
        // read_file of a descriptor that is not open fails on the worker's parts while this thread's
        // first part (if it claims one before the worker has taken them all) waits, then fails too
        assert.throws(
          () =>
            pool.run('read_file', [1 << 20, 0, 0, dest, bytes], 8, () => {
              Atomics.wait(pause, 0, 0, 20);
              throw new Error('this thread failed');
            }),
          /this thread failed|EBADF/,
        );
        rt.heap.f32(x, 4096).fill(1.5);
        pool.run('round_to_f16', [x, 4096, x], 8, (part, parts) => exports.round_to_f16(x, 4096, x, part, parts));
        assert.equal(rt.heap.f32(x, 4096)[4095], 1.5, `round ${round}`);
      }
    } finally {
      rt.heap.release(dest, bytes);
      rt.heap.release(x, 4 * 4096);
    }
  });

  it('reads a file range into the heap on every thread: the same bytes as one read; a short file is an error naming where it ended', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llamascope-read-'));
    const file = path.join(dir, 'bytes.bin');
    const next = random(11);
    const contents = Uint8Array.from({ length: 7 * (1 << 20) + 12345 }, () => Math.floor(next() * 256));
    fs.writeFileSync(file, contents);
    const fd = fs.openSync(file, 'r');
    try {
      for (const threads of [1, 2, 3]) {
        const backend = new CpuBackend({ kernels: 'wasm', threads });
        const position = 4321;
        const blocks = 216_000; // 7.3 MB of Q8_0 blocks, ending 4 KB before the file does
        const bytes = 34 * blocks;
        const buffer = backend.uploadWith(
          'Q8_0',
          32 * blocks,
          bytes,
          () => assert.fail('the file range is read by the threads, not by fill'),
          { fd, position },
        ) as unknown as { data: Uint8Array };
        assert.equal(Buffer.compare(buffer.data, contents.subarray(position, position + bytes)), 0, `${threads} threads`);
        assert.throws(
          () => backend.uploadWith('Q8_0', 32 * (1 << 16), 34 * (1 << 16), () => undefined, { fd, position: contents.length - 1000 }),
          new RegExp(`the file ended \\d+ bytes in, before the ${34 * (1 << 16)} bytes from ${contents.length - 1000} were read`),
        );

      }
    } finally {
      fs.closeSync(fd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('CPU fast path: linear in the llama.cpp numeric mode equals the reference kernels bit for bit', () => {
  const reference = new CpuBackend({ kernels: 'reference' });
  // Kernels with less than 2^19 multiply-adds run on one thread (runtime.ts): cases meant to test
  // the split across threads are larger than that.
  const cases: [type: string, rows: number, width: number, out: number][] = [
    ['Q4_0', 1, 2048, 264], // rows % 8 == 0: ggml's repacked q4_0_8x8 rounding
    ['Q4_0', 5, 256, 422], // rows % 8 != 0: vec_dot lanes; 422 = 105 groups of four + 2
    ['Q8_0', 1, 2048, 264],
    ['Q8_0', 7, 96, 33], // too little work to share: one thread
    ['Q5_0', 3, 512, 344],
    ['Q4_0', 130, 512, 16], // enough blocks that the activations are quantized on every thread
    ['Q4_0', 7, 256, 72], // activation rows in pairs and one left over
    ['Q4_0', 3, 160, 8],
    ['Q4_0', 4, 128, 8],
    ['Q4_0', 5, 96, 24],
    ['Q4_0', 8, 64, 16],
    ['Q4_0', 9, 96, 24],
    // 10 rows and more: the batched kernel (groups of four rows, quantize_q8_0x4)
    ['Q4_0', 10, 96, 24], // two rows in the last group
    ['Q4_0', 11, 32, 16], // one block (rows 0-7 all zero, see below); three rows in the last group
    ['Q4_0', 13, 2080, 40], // 65 blocks: expanded 32 at a time, the last alone; a last group of one row
    ['Q4_0', 130, 2048, 24], // two rows in the last group
    ['Q4_0', 12, 1024, 44], // out % 8 != 0: vec_dot lanes, batched (linear_q0_lanes_x4)
    ['Q4_0', 130, 64, 20], // the same; 33 groups of four rows: the lanes kernel carries at most 32 at a time
    ['Q8_0', 15, 64, 8], // Q8_0 batched only from 16 rows
    ['Q8_0', 16, 32, 24], // one block
    ['Q8_0', 17, 2080, 40], // 65 blocks, expanded 32 at a time; one row in the last group
    ['Q8_0', 130, 256, 24], // 33 groups
    ['Q5_0', 11, 512, 40],
    ['Q5_0', 130, 96, 16],
    ['Q4_K', 1, 2048, 264], // repacked q4_K_8x8: gemv
    ['Q4_K', 6, 512, 40], // gemm for rows 0..3, gemv for rows 4..5
    ['Q4_K', 70, 256, 16], // Q8_K activations quantized on every thread
    ['Q4_K', 2, 256, 36], // out % 8 != 0: no WASM kernel, the reference's float64 dot
    // the relaxed build's gemv: weight rows eight a pass, `stride` apart (40 on two threads: 3 and 2 a stream)
    ['Q4_K', 2, 256, 24],
    ['Q4_K', 3, 2304, 40],
    ['Q4_K', 5, 1024, 8], // gemm for rows 0..3, gemv for row 4
    ['Q4_K', 7, 256, 48], // gemm for rows 0..3, gemv for rows 4..6
    // the relaxed build's gemm rows: four weight rows' blocks interleaved, 8 super-blocks at a time, for 64 activation rows at a time
    ['Q4_K', 4, 256, 8], // one group, one block
    ['Q4_K', 8, 2304, 40], // nine blocks: interleaved 8, then 1
    ['Q4_K', 9, 256, 24], // two groups and a gemv row
    ['Q4_K', 12, 2304, 16],
    ['Q4_K', 70, 2304, 16], // gemm rows 0..63, then 64..67; gemv rows 68, 69
    ['Q4_K', 69, 4352, 8], // 17 blocks: 8, 8, 1
    ['Q6_K', 1, 2048, 264],
    ['Q6_K', 5, 512, 38],
    ['Q6_K', 2, 256, 7], // the relaxed build: int8 dot products
    ['Q6_K', 3, 2304, 20],
    // 4 rows and more: each weight block decoded once, 16 at a time, for 64 activation rows at a time (relaxed build)
    ['Q6_K', 4, 256, 7],
    ['Q6_K', 8, 2304, 20],
    ['Q6_K', 9, 4352, 10], // 17 blocks: 16, then 1
    ['Q6_K', 12, 256, 38],
    ['Q6_K', 70, 2304, 9], // rows 0..63, then 64..69
    ['Q5_K', 1, 1024, 96],
    ['Q5_K', 6, 256, 38],
    ['Q3_K', 1, 1024, 96],
    ['Q3_K', 5, 512, 38],
    ['Q2_K', 1, 1024, 96], // on AVX-512 (ggml's repacked q2_K_8x8) as for Q4_K; on AVX2 vec_dot lanes
    ['Q2_K', 6, 512, 40],
    ['Q2_K', 3, 256, 38], // vec_dot lanes
    ['Q4_1', 1, 2048, 96],
    ['Q4_1', 5, 96, 38],
    ['Q5_1', 1, 2048, 96],
    ['Q5_1', 7, 160, 38],
    ['Q5_1', 130, 128, 16],
  ];
  const activation = (type: string) => (type.endsWith('_K') ? 'Q8_K' : type.endsWith('_1') ? 'Q8_1' : 'Q8_0');
  for (const simd of SIMD_BUILDS) for (const threads of [1, 2, 3]) {
    const fast = new CpuBackend({ kernels: 'wasm', threads, simd });
    for (const [type, rows, width, out] of cases) {
      it(`${type}: ${rows} x ${width} by ${out} x ${width}, ${threads} thread${threads > 1 ? 's' : ''}, ${simd}`, async () => {
        const weight = quantizedWeight(type, out, width, rows * 31 + out);
        const next = random(width + out);
        // the first 256 values zero: an all-zero activation block
        const x = new Float32Array(rows * width).map((_, i) => (i < 256 ? 0 : next() * (i % 97 === 0 ? 40 : 3)));
        const run = (b: Backend) => Tensor.from(x, [rows, width], { backend: b }).linear(Tensor.fromBlocks(weight, type, [out, width], { backend: b }), { activationType: activation(type) }).data();
        bitsEqual((await run(fast)) as Float32Array, (await run(reference)) as Float32Array, `${type} linear`);
      });
    }
  }

  for (const activationType of ['Q8_0', null]) {
    it(`reads a row slice of its input in place (a contiguous view that starts past the buffer's start), ${activationType ?? 'float'} mode`, async () => {
      const fast = new CpuBackend({ kernels: 'wasm', threads: 2 });
      const [width, out] = [256, 2048];
      const weight = quantizedWeight('Q4_0', out, width, 11);
      const next = random(12);
      const x = new Float32Array(3 * width).map(() => next());
      const run = (b: Backend) => Tensor.from(x, [3, width], { backend: b }).slice(0, 2, 3).linear(Tensor.fromBlocks(weight, 'Q4_0', [out, width], { backend: b }), { activationType }).data();
      const [f, r] = [(await run(fast)) as Float32Array, (await run(reference)) as Float32Array];
      if (activationType) bitsEqual(f, r, 'last row');
      else for (let i = 0; i < out; i++) assert.ok(Math.abs(f[i] - r[i]) <= 1e-5 * (1 + Math.abs(r[i])), `output ${i}: ${f[i]} vs ${r[i]}`);
    });
  }

  for (const rows of [3, 12]) {
    it(`reads activations through a view (transposed input copied into the heap), ${rows} rows${rows >= 10 ? ' (batched kernel)' : ''}`, async () => {
      const fast = new CpuBackend({ kernels: 'wasm', threads: 2 });
      const [width, out] = [64, 16];
      const weight = quantizedWeight('Q4_0', out, width, 5);
      const next = random(9);
      const xT = new Float32Array(rows * width).map(() => next());
      const run = (b: Backend) => Tensor.from(xT, [width, rows], { backend: b }).transpose(0, 1).linear(Tensor.fromBlocks(weight, 'Q4_0', [out, width], { backend: b }), { activationType: 'Q8_0' }).data();
      bitsEqual((await run(fast)) as Float32Array, (await run(reference)) as Float32Array, 'transposed input');
    });
  }

  for (const simd of SIMD_BUILDS) for (const suffix of ['q4_0', 'q8_0', 'q5_0', 'f16', 'q4_k_m', 'q6_k', 'q5_k_m', 'q3_k_m', 'q2_k', 'q4_1', 'q5_1']) {
    it(`manllama ${suffix}: a prompt's logits and then three cached decode steps' are the same bits on both (${simd})`, async function () {
      this.timeout(120_000);
      const tokens = Array.from({ length: 24 }, (_, i) => (i * 37 + 5) % 2048);
      const logits = async (backend: Backend) => {
        const model = await LlamaModel.load(modelPath(suffix), { backend });
        const cache = model.newCache();
        const steps = [(await (await model.runWithHooks(tokens, {}, { mode: 'llama.cpp', cache })).data()) as Float32Array];
        for (const next of [7, 1100, 42]) steps.push((await (await model.runWithHooks([next], {}, { mode: 'llama.cpp', cache })).data()) as Float32Array);
        return steps;
      };
      const [fast, slow] = [await logits(new CpuBackend({ kernels: 'wasm', threads: 2, simd })), await logits(reference)];
      fast.forEach((f, i) => bitsEqual(f, slow[i], `${suffix} logits, ${i === 0 ? 'prompt' : `decode step ${i}`}`));
    });
  }
});

describe('CPU fast path: the attention ops of the llama.cpp numeric mode equal the reference kernels bit for bit', () => {
  const reference = new CpuBackend({ kernels: 'reference' });
  /** Each build on one thread and on three (the rows split unevenly; small products are shared too). */
  const fastBackends = SIMD_BUILDS.flatMap((simd) => [1, 3].map((threads) => new CpuBackend({ kernels: 'wasm', threads, simd })));
  /** Values of f16 precision (as the KV cache and rounded q hold), over a wide range. */
  const f16Values = (count: number, seed: number) => {
    const next = random(seed);
    return Tensor.from(new Float32Array(count).map(() => next() * 6), [count]).roundF16();
  };

  // [kv heads, group, rows (T), head dim, keys (Tk), innerPad]: one row takes ggml_vec_dot_f16, several tinyBLAS.
  const shapes: [number, number, number, number, number, number][] = [
    [4, 8, 1, 64, 300, 256], // decode: q·Kᵀ one step of vec_dot's lanes (AVX-512), two (AVX2)
    [4, 8, 1, 128, 257, 256], // head dim 128: vec_dot's 64 lanes in two passes (AVX-512); 257 keys: a key past whole steps
    [2, 2, 1, 67, 12, 256], // head dim 67: P·V columns past the first 64, q·Kᵀ leftovers; 12 keys: P·V lanes empty, or with one sub-lane (AVX2)
    [1, 2, 1, 32, 20, 256], // 20 keys: P·V lanes with one sub-lane (AVX-512)
    [1, 4, 1, 65, 1, 256], // one key
    [2, 4, 16, 64, 16, 256], // a prompt: tinyBLAS lanes for both, P·V one product a lane
    [1, 2, 3, 16, 10, 256], // head dim 16: q·Kᵀ one step of tinyBLAS's lanes (AVX-512), two (AVX2)
    [1, 2, 3, 8, 10, 256], // head dim 8: one step of tinyBLAS's AVX2 lanes; not whole AVX-512 ones (vec_dot)
    [1, 2, 4, 13, 20, 256], // head dim 13: P·V (tinyBLAS) columns short of a vector
    [2, 3, 5, 48, 37, 256],
    [1, 2, 7, 40, 9, 1],
    [3, 1, 1, 40, 300, 1], // vec_dot: q·Kᵀ one step of AVX2 lanes and leftovers, P·V leftovers
    [3, 1, 1, 24, 300, 1],
  ];
  for (const [KV, G, T, D, Tk, innerPad] of shapes) for (const form of ['avx512', 'avx2'] as const) {
    it(`q·Kᵀ, softmax and P·V: ${KV} KV heads x ${G}, ${T} rows, head dim ${D}, ${Tk} keys, inner pad ${innerPad}, ggml's ${form} lanes`, async () => {
      const previous = useGgmlSimd(form);
      const run = async (backend: Backend) => {
        // laid out as the LLaMA forward lays them out: T rows per head (one row: ggml_vec_dot_f16)
        const q = Tensor.from(await f16Values(KV * G * T * D, KV * 7 + T).data(), [KV, G, T, D], { backend });
        const kCache = Tensor.from(await f16Values(Tk * KV * D, Tk).data(), [Tk, KV, D], { backend });
        const vCache = Tensor.from(await f16Values(Tk * KV * D, Tk + 1).data(), [Tk, KV, D], { backend });
        const kByKv = kCache.permute(1, 0, 2).reshape(KV, 1, Tk, D);
        const scores = q.matmul(kByKv.transpose(-1, -2), { ggml: { innerPad: 1 } }).reshape(KV * G, T, Tk);
        const pattern = scores.softmax({ scale: 0.125, causalOffset: Tk - T, ggml: true }).roundF16();
        const vByKv = vCache.permute(1, 0, 2).reshape(KV, 1, Tk, D);
        const z = pattern.reshape(KV, G, T, Tk).matmul(vByKv, { ggml: { innerPad } });
        return [(await scores.data()) as Float32Array, (await pattern.data()) as Float32Array, (await z.data()) as Float32Array];
      };
      try {
        const expected = await run(reference);
        for (const fast of fastBackends) {
          const actual = await run(fast);
          ['q·Kᵀ', 'softmax', 'P·V'].forEach((what, i) => bitsEqual(actual[i], expected[i], `${what} (${fast.description})`));
        }
      } finally {
        useGgmlSimd(previous);
      }
    });
  }
});

describe("CPU fast path: SiLU equals ggml's float32 silu (the reference's vSilu) bit for bit", () => {
  const reference = new CpuBackend({ kernels: 'reference' });
  // |x| up to 120: past ~87 expf(-x) overflows or its result is subnormal (the scalar lanes)
  const next = random(77);
  const values = new Float32Array(4099).map((_, i) => (i < 8 ? [0, -0, 1e-40, -1e-40, 88.5, -88.5, 104, -104][i] : next() * (i % 5 === 0 ? 240 : 16)));
  for (const simd of SIMD_BUILDS) for (const form of ['avx512', 'avx2'] as const) {
    it(`silu(x) * y, fused, ${form} form of ggml_v_expf, ${simd}`, async () => {
      const previous = useGgmlSimd(form);
      try {
        const run = (backend: Backend) => {
          const x = Tensor.from(values, [values.length], { backend });
          // a slice: the silu input starts past its buffer's start
          return x.slice(0, 3, values.length).silu().mul(Tensor.from(values.slice(0, values.length - 3).reverse(), [values.length - 3], { backend })).data();
        };
        bitsEqual((await run(new CpuBackend({ kernels: 'wasm', threads: 2, simd }))) as Float32Array, (await run(reference)) as Float32Array, `silu (${form})`);
      } finally {
        useGgmlSimd(previous);
      }
    });
  }
});

describe("CPU fast path: the float mode's matmul equals the reference's float64 sums bit for bit", () => {
  const reference = new CpuBackend({ kernels: 'reference' });
  const next = random(80);
  const values = (count: number) => new Float32Array(count).map(() => (next() < -0.3 ? 0 : next() * 10));
  // [KV, G, T, D, Tk] as the forward lays out q·Kᵀ (B through a transposed view) and P·V (B's rows contiguous)
  for (const [KV, G, T, D, Tk] of [[4, 8, 1, 64, 150], [4, 8, 4, 64, 600], [2, 3, 5, 48, 37], [1, 1, 3, 7, 5]]) {
    it(`${KV} KV heads x ${G}, ${T} rows, head dim ${D}, ${Tk} keys`, async () => {
      const [q, kCache, vCache, p] = [values(KV * G * T * D), values(Tk * KV * D), values(Tk * KV * D), values(KV * G * T * Tk)];
      kCache[5] = Infinity; // times a zero of q: the reference skips zeros of A, so no NaN
      q.fill(0, 0, 8);
      const run = async (backend: Backend) => {
        const keys = Tensor.from(kCache, [Tk, KV, D], { backend }).permute(1, 0, 2).reshape(KV, 1, Tk, D);
        const vals = Tensor.from(vCache, [Tk, KV, D], { backend }).permute(1, 0, 2).reshape(KV, 1, Tk, D);
        const scores = Tensor.from(q, [KV, G, T, D], { backend }).matmul(keys.transpose(-1, -2));
        const z = Tensor.from(p, [KV, G, T, Tk], { backend }).matmul(vals);
        return [(await scores.data()) as Float32Array, (await z.data()) as Float32Array];
      };
      for (const threads of [1, 2]) {
        const [f, r] = [await run(new CpuBackend({ kernels: 'wasm', threads })), await run(reference)];
        bitsEqual(f[0], r[0], `q·Kᵀ, ${threads} threads`);
        bitsEqual(f[1], r[1], `P·V, ${threads} threads`);
      }
    });
  }
});

describe('CPU fast path: attention products broadcast their operands as the reference does', () => {
  for (const ggml of [{ innerPad: 1 }, null]) {
    it(`B of fewer dimensions (a slice), or with a size-1 one, repeated over A's batches (${ggml ? 'llama.cpp' : 'float'} mode)`, async () => {
      const next = random(31);
      const values = (count: number) => new Float32Array(count).map(() => Math.fround(Math.round(next() * 64) / 16));
      const [a, b] = [values(2 * 3 * 4 * 8), values(2 * 8 * 5)];
      const run = async (backend: Backend) => {
        const x = Tensor.from(a, [2, 3, 4, 8], { backend });
        const flat = x.matmul(Tensor.from(b, [2, 8, 5], { backend }).slice(0, 1, 2).reshape(8, 5), { ggml });
        const perBatch = x.matmul(Tensor.from(b, [2, 1, 8, 5], { backend }), { ggml });
        return [(await flat.data()) as Float32Array, (await perBatch.data()) as Float32Array];
      };
      const expected = await run(new CpuBackend({ kernels: 'reference' }));
      for (const threads of [1, 2]) {
        const actual = await run(new CpuBackend({ kernels: 'wasm', threads }));
        bitsEqual(actual[0], expected[0], `[2, 3, 4, 8] x [8, 5], ${threads} threads`);
        bitsEqual(actual[1], expected[1], `[2, 3, 4, 8] x [2, 1, 8, 5], ${threads} threads`);
      }
    });
  }
});

describe('CPU fast path: attention products of zeros', () => {
  for (const simd of SIMD_BUILDS) for (const form of ['avx512', 'avx2'] as const) {
    it(`all-zero products with negative zeros sum to +0, as ggml lanes that start at +0 do (ggml's ${form} lanes, ${simd})`, async () => {
      const previous = useGgmlSimd(form);
      const run = async (backend: Backend) => {
        const q = Tensor.from(new Float32Array(2 * 64).fill(-0), [2, 1, 1, 64], { backend });
        const k = Tensor.from(new Float32Array(5 * 2 * 64).map((_, i) => (i % 3 === 0 ? 0 : 1.5)), [5, 2, 64], { backend });
        const p = Tensor.from(new Float32Array(2 * 5).fill(-0), [2, 1, 1, 5], { backend });
        const byKv = k.permute(1, 0, 2).reshape(2, 1, 5, 64);
        const scores = q.matmul(byKv.transpose(-1, -2), { ggml: { innerPad: 1 } });
        const z = p.matmul(byKv, { ggml: { innerPad: 256 } });
        return [(await scores.data()) as Float32Array, (await z.data()) as Float32Array];
      };
      try {
        const [f, r] = [await run(new CpuBackend({ kernels: 'wasm', threads: 1, simd })), await run(new CpuBackend({ kernels: 'reference' }))];
        assert.ok([...r[0], ...r[1]].every((x) => Object.is(x, 0)), 'the reference gives +0');
        bitsEqual(f[0], r[0], 'q·Kᵀ of zeros');
        bitsEqual(f[1], r[1], 'P·V of zeros');
      } finally {
        useGgmlSimd(previous);
      }
    });
  }
});

describe("CPU fast path: the llama.cpp mode's softmax where exponentials underflow", () => {
  const reference = new CpuBackend({ kernels: 'reference' });
  const next = random(79);
  // spreads of hundreds: most exponentials underflow to 0 or are subnormal (the scalar lanes)
  const values = new Float32Array(5 * 70).map((_, i) => next() * (i % 4 === 0 ? 1000 : 60));
  for (const simd of SIMD_BUILDS) for (const form of ['avx512', 'avx2'] as const) {
    it(`5 rows of 70, causal, ggml's ${form} lanes, ${simd}`, async () => {
      const previous = useGgmlSimd(form);
      try {
        const run = (backend: Backend) => Tensor.from(values, [5, 70], { backend }).softmax({ scale: 0.7, causalOffset: 60, ggml: true }).data();
        bitsEqual((await run(new CpuBackend({ kernels: 'wasm', threads: 1, simd }))) as Float32Array, (await run(reference)) as Float32Array, 'softmax');
      } finally {
        useGgmlSimd(previous);
      }
    });
  }
});

describe('CPU fast path: f16 rounding in fused expressions', () => {
  const reference = new CpuBackend({ kernels: 'reference' });
  const next = random(78);
  // ties between halves, f16 subnormals, values that round to infinity, and ordinary ones
  const special = [1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -20, -3 * 2 ** -25, 65519, 65520, -70000, 0, -0];
  const values = new Float32Array(1031).map((_, i) => (i < special.length ? special[i] : next() * (i % 3 === 0 ? 1e-4 : 100)));
  for (const simd of SIMD_BUILDS) {
    it(`roundF16(x) + y, ${simd}`, async () => {
      const run = (backend: Backend) => {
        const x = Tensor.from(values, [values.length], { backend });
        return x.slice(0, 1, values.length).roundF16().add(Tensor.from(new Float32Array(values.length - 1).fill(0.5), [values.length - 1], { backend })).data();
      };
      bitsEqual((await run(new CpuBackend({ kernels: 'wasm', threads: 2, simd }))) as Float32Array, (await run(reference)) as Float32Array, 'roundF16');
    });
    it(`roundF16(x) and silu(x) alone (written straight into the result), ${simd}`, async () => {
      for (const op of ['roundF16', 'silu'] as const) {
        const run = (backend: Backend) => Tensor.from(values, [values.length], { backend }).slice(0, 1, values.length)[op]().data();
        bitsEqual((await run(new CpuBackend({ kernels: 'wasm', threads: 2, simd }))) as Float32Array, (await run(reference)) as Float32Array, op);
      }
    });
  }
});

describe('CPU fast path: add, sub and mul of float32 rows, and RMSNorm, equal the reference bit for bit', () => {
  const reference = new CpuBackend({ kernels: 'reference' });
  const next = random(91);
  const values = (n: number) => new Float32Array(n).map((_, i) => (i % 97 === 0 ? -0 : next() * 10 ** ((i % 7) - 3)));
  // [1, 2048]: one decode step's row, on one thread; [130, 515]: enough work to share across threads.
  for (const simd of SIMD_BUILDS) for (const [rows, cols] of [[1, 2048], [130, 515]]) {
    it(`a + b, a - row, row * a, silu(a) * b, a row slice, a transposed load (not ours): [${rows}, ${cols}], ${simd}`, async () => {
      const data = { a: values(rows * cols), b: values(rows * cols), row: values(cols), square: values(cols * cols) };
      const run = async (backend: Backend) => {
        const [a, b] = [data.a, data.b].map((v) => Tensor.from(v, [rows, cols], { backend }));
        const row = Tensor.from(data.row, [cols], { backend });
        const square = Tensor.from(data.square, [cols, cols], { backend });
        const results = [a.add(b), a.sub(row), row.mul(a), a.silu().mul(b), a.slice(0, rows - 1, rows).add(row), square.transpose(0, 1).mul(square)];
        return Promise.all(results.map((t) => t.data()));
      };
      const [fast, slow] = [await run(new CpuBackend({ kernels: 'wasm', threads: 2, simd })), await run(reference)];
      ['a + b', 'a - row', 'row * a', 'silu(a) * b', 'row slice + row', 'transposed * square'].forEach((label, i) => bitsEqual(fast[i] as Float32Array, slow[i] as Float32Array, label));
    });
    it(`RMSNorm of rows, contiguous and permuted: [${rows}, ${cols}], ${simd}`, async () => {
      const data = { x: values(rows * cols), square: values(cols * cols) };
      const run = async (backend: Backend) => {
        const x = Tensor.from(data.x, [rows, cols], { backend });
        const square = Tensor.from(data.square, [cols, cols], { backend });
        return Promise.all([x.rmsNorm(1e-5).data(), square.transpose(0, 1).rmsNorm(1e-6).data()]);
      };
      const [fast, slow] = [await run(new CpuBackend({ kernels: 'wasm', threads: 2, simd })), await run(reference)];
      bitsEqual(fast[0] as Float32Array, slow[0] as Float32Array, 'rmsNorm');
      bitsEqual(fast[1] as Float32Array, slow[1] as Float32Array, 'rmsNorm of a transposed view');
    });
  }
});

describe('CPU fast path: RoPE equals the reference bit for bit', () => {
  const reference = new CpuBackend({ kernels: 'reference' });
  const next = random(33);
  // [tokens, heads, headDim] and positions; [130, 8, 64] is enough work to share across threads.
  const cases: { shape: number[]; positions: number[]; args: { mode: 'norm' | 'neox'; dims: number; freqBase: number; freqScale: number } }[] = [
    { shape: [1, 32, 64], positions: [131], args: { mode: 'norm', dims: 64, freqBase: 10000, freqScale: 1 } },
    { shape: [130, 8, 64], positions: Array.from({ length: 130 }, (_, i) => 4000 + 3 * i), args: { mode: 'norm', dims: 64, freqBase: 500000, freqScale: 0.25 } },
    { shape: [5, 3, 48], positions: [0, 1, 2, 1000, 65535], args: { mode: 'neox', dims: 32, freqBase: 10000, freqScale: 1 } },
    { shape: [2, 3, 4, 16], positions: [7, 9, 11], args: { mode: 'norm', dims: 8, freqBase: 10000, freqScale: 1 } },
  ];
  // Inputs where fmaf's single rounding and float64's double rounding differ (x0 * m + c lands
  // within 2^-53 of a float32 midpoint): found by search over the angles, both rotation formulas.
  const fmaCases = (() => {
    const args = { mode: 'norm' as const, dims: 64, freqBase: 10000, freqScale: 1 };
    const found: { position: number; pair: number; x0: number; x1: number }[] = [];
    const fr = Math.fround;
    const ulp = (v: number) => 2 ** (Math.floor(Math.log2(Math.abs(v))) - 23);
    for (let position = 1; position < 400 && found.length < 8; position++) {
      const cs = ropeAngles(position, args);
      for (let pair = 0; pair < 32 && found.length < 8; pair++) {
        const [cos, sin] = [cs[2 * pair], cs[2 * pair + 1]];
        // out[a] = fma(x0, cos, -(x1 * sin)) with x1 = -1; out[b] = fma(x0, sin, x1 * cos) with x1 = 1
        for (const [m, c, x1] of [[cos, sin, -1], [sin, cos, 1]]) {
          if (m === 0 || c === 0) continue;
          const x0 = fr(ulp(c) / 2 / m);
          if (fr(x0 * m + c) !== fma32(x0, m, c)) found.push({ position, pair, x0, x1 });
        }
      }
    }
    return { args, found };
  })();
  for (const simd of SIMD_BUILDS) {
    it(`where rounding twice differs from fmaf's once (${fmaCases.found.length} cases), ${simd}`, async () => {
      assert.ok(fmaCases.found.length >= 4, 'the search finds such inputs');
      const x = new Float32Array(fmaCases.found.length * 64);
      fmaCases.found.forEach((f, t) => x.set([f.x0, f.x1], t * 64 + 2 * f.pair));
      const run = (backend: Backend) =>
        Tensor.from(x, [fmaCases.found.length, 1, 64], { backend }).rope(Tensor.from(Int32Array.from(fmaCases.found, (f) => f.position), [fmaCases.found.length], { dtype: 'i32', backend }), fmaCases.args).data();
      bitsEqual((await run(new CpuBackend({ kernels: 'wasm', threads: 1, simd }))) as Float32Array, (await run(reference)) as Float32Array, 'rope');
    });
  }
  for (const simd of SIMD_BUILDS) {
    it(`norm and neox, partial rotation, batch dimensions, a permuted input, one and several threads, ${simd}`, async () => {
      const data = cases.map((c) => new Float32Array(c.shape.reduce((p, d) => p * d, 1)).map(() => next() * 4));
      const run = async (backend: Backend) => {
        const results = cases.map((c, i) => {
          const x = Tensor.from(data[i], c.shape, { backend });
          return x.rope(Tensor.from(Int32Array.from(c.positions), [c.positions.length], { dtype: 'i32', backend }), c.args);
        });
        // a view that is not dense: tokens and heads swapped (six of them), rotated as [6 tokens, 130 heads, 64]
        const swapped = Tensor.from(data[1], cases[1].shape, { backend }).permute(1, 0, 2).slice(0, 0, 6);
        results.push(swapped.rope(Tensor.from(Int32Array.of(3, 1, 4, 1, 5, 9), [6], { dtype: 'i32', backend }), { dims: 64 }));
        return Promise.all(results.map((t) => t.data()));
      };
      const [fast, slow] = [await run(new CpuBackend({ kernels: 'wasm', threads: 2, simd })), await run(reference)];
      fast.forEach((f, i) => bitsEqual(f as Float32Array, slow[i] as Float32Array, `case ${i}`));
    });
  }
});

describe('CPU backend: choosing the kernels', () => {
  const saved = process.env.LLAMASCOPE_CPU_KERNELS;
  afterEach(() => {
    if (saved === undefined) delete process.env.LLAMASCOPE_CPU_KERNELS;
    else process.env.LLAMASCOPE_CPU_KERNELS = saved;
  });

  it('describes itself, follows LLAMASCOPE_CPU_KERNELS, and rejects unknown values', () => {
    assert.equal(new CpuBackend({ kernels: 'wasm', threads: 2, simd: 'simd128' }).description, 'cpu (WASM SIMD, 2 threads)');
    process.env.LLAMASCOPE_CPU_KERNELS = 'reference';
    assert.equal(new CpuBackend().description, 'cpu (TypeScript reference kernels)');
    process.env.LLAMASCOPE_CPU_KERNELS = 'simd';
    assert.throws(() => new CpuBackend(), /LLAMASCOPE_CPU_KERNELS=simd is not one of wasm, reference/);
  });

  it('prefers the relaxed-SIMD build where it runs, and follows LLAMASCOPE_WASM_SIMD', () => {
    const saved = process.env.LLAMASCOPE_WASM_SIMD;
    try {
      delete process.env.LLAMASCOPE_WASM_SIMD;
      const expected = relaxedSimdUnavailable() === null ? 'cpu (WASM relaxed SIMD, 2 threads)' : 'cpu (WASM SIMD, 2 threads)';
      assert.equal(new CpuBackend({ kernels: 'wasm', threads: 2 }).description, expected);
      process.env.LLAMASCOPE_WASM_SIMD = 'simd128';
      assert.equal(new CpuBackend({ kernels: 'wasm', threads: 2 }).description, 'cpu (WASM SIMD, 2 threads)');
      process.env.LLAMASCOPE_WASM_SIMD = 'avx';
      assert.throws(() => new CpuBackend({ kernels: 'wasm', threads: 2 }), /LLAMASCOPE_WASM_SIMD=avx is not one of relaxed, simd128/);
    } finally {
      if (saved === undefined) delete process.env.LLAMASCOPE_WASM_SIMD;
      else process.env.LLAMASCOPE_WASM_SIMD = saved;
    }
  });
});

describe('CPU fast path: memory', () => {
  it('buffers nobody frees go back to the heap once the garbage collector takes them', async function () {
    this.timeout(60_000);
    const backend = new CpuBackend({ kernels: 'wasm', threads: 1 });
    const before = backend.wasm!.heap.held;
    // 300 results of 16 MiB, each read and dropped: 4.7 GiB, more than wasm32 holds if none came back.
    // (A WeakRef keeps its target alive until the current job ends, hence the await per step.)
    for (let i = 0; i < 300; i++) await Tensor.zeros([4 << 20], { backend }).slice(0, 0, 1).data();
    assert.ok(backend.wasm!.heap.held - before <= 600 << 20, `${backend.wasm!.heap.held - before} bytes still held`);
  });
});
