// This machine's achievable memory read bandwidth, the yardstick for every "share of measured
// bandwidth" figure: decoding a token streams all weights once, so a decode loop can go no faster
// than weight bytes / bandwidth. `npm run bench:bandwidth` prints it; `measureSpeed` (speed.ts)
// measures it again in each run, because on a shared machine it moves between runs.
//
// Worker threads read disjoint parts of one SharedArrayBuffer, in two ways:
//  - line: one 8-byte load per 64-byte cache line. The memory system still moves every line, but
//    the core does almost no work, so this is what the memory can deliver (STREAM-like).
//  - dense: every 8-byte word summed (four accumulators). A scalar JS loop; it shows how close a
//    plain loop gets, and is compute-bound where it falls short of `line`.
// Each figure is the best of several trials (as STREAM reports), timed from the first worker's
// start to the last worker's end.

import { Worker } from 'node:worker_threads';

export type ReadKernel = 'line' | 'dense';

export interface MemoryBandwidth {
  bufferBytes: number;
  /** GB/s (1e9 bytes per second) of each kernel, by number of threads. */
  gbPerSecond: Record<ReadKernel, Record<number, number>>;
  /** The highest read bandwidth measured (any kernel, any thread count). */
  peakGBs: number;
}

export interface BandwidthOptions {
  /** Buffer size in bytes (default 1 GiB); must be far beyond the last-level cache. */
  bytes?: number;
  /** Thread counts to measure (default 1 and 2). */
  threads?: number[];
  trials?: number;
}

// Plain JavaScript (not TypeScript): a worker started from source needs no loader.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const words = new Float64Array(workerData.buffer);
const kernels = {
  line(a, from, to) { let s = 0; for (let i = from; i < to; i += 8) s += a[i]; return s; },
  dense(a, from, to) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let i = from; i < to; i += 4) { s0 += a[i]; s1 += a[i + 1]; s2 += a[i + 2]; s3 += a[i + 3]; }
    return s0 + s1 + s2 + s3;
  },
};
parentPort.on('message', ({ kernel, from, to }) => {
  const start = performance.timeOrigin + performance.now();
  const sum = kernels[kernel](words, from, to);
  parentPort.postMessage({ start, end: performance.timeOrigin + performance.now(), sum });
});
`;

interface Run {
  start: number;
  end: number;
  sum: number;
}

export async function measureMemoryBandwidth(options: BandwidthOptions = {}): Promise<MemoryBandwidth> {
  const bytes = options.bytes ?? 1 << 30;
  const threadCounts = options.threads ?? [1, 2];
  const trials = options.trials ?? 5;
  const buffer = new SharedArrayBuffer(bytes);
  // Write every page so reads hit memory, not the shared zero page.
  new Float64Array(buffer).fill(1);
  const words = bytes / 8;

  const workers = Array.from({ length: Math.max(...threadCounts) }, () => new Worker(WORKER_SOURCE, { eval: true, workerData: { buffer } }));
  const run = (worker: Worker, kernel: ReadKernel, from: number, to: number) =>
    new Promise<Run>((resolve, reject) => {
      const fail = (e: Error) => reject(e);
      worker.once('error', fail);
      worker.once('message', (r: Run) => {
        worker.off('error', fail);
        resolve(r);
      });
      worker.postMessage({ kernel, from, to });
    });

  try {
    const gbPerSecond: MemoryBandwidth['gbPerSecond'] = { line: {}, dense: {} };
    for (const kernel of ['line', 'dense'] as const) {
      for (const threads of threadCounts) {
        // Whole cache lines (8 words) per thread so the line kernel reads each line exactly once.
        const per = Math.floor(words / threads / 8) * 8;
        let best = 0;
        for (let trial = 0; trial <= trials; trial++) {
          const runs = await Promise.all(workers.slice(0, threads).map((w, i) => run(w, kernel, i * per, (i + 1) * per)));
          const seconds = (Math.max(...runs.map((r) => r.end)) - Math.min(...runs.map((r) => r.start))) / 1000;
          if (trial > 0) best = Math.max(best, (per * threads * 8) / seconds / 1e9); // trial 0 warms up
        }
        gbPerSecond[kernel][threads] = best;
      }
    }
    const peakGBs = Math.max(...Object.values(gbPerSecond).flatMap((byThreads) => Object.values(byThreads)));
    return { bufferBytes: bytes, gbPerSecond, peakGBs };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** A table of the measurement, as the bench prints it. */
export function formatBandwidth(b: MemoryBandwidth): string {
  const threads = Object.keys(b.gbPerSecond.line).map(Number);
  const lines = [
    `memory read bandwidth over ${(b.bufferBytes / 2 ** 20).toFixed(0)} MiB, best of trials (node ${process.version})`,
    `kernel  ${threads.map((t) => `${t} thread${t > 1 ? 's' : ''}`.padStart(12)).join('')}`,
  ];
  for (const kernel of ['line', 'dense'] as const) {
    lines.push(`${kernel.padEnd(6)}  ${threads.map((t) => `${b.gbPerSecond[kernel][t].toFixed(1)} GB/s`.padStart(12)).join('')}`);
  }
  lines.push(`peak    ${b.peakGBs.toFixed(1)} GB/s`);
  return lines.join('\n');
}
