// This machine's memory read bandwidth (src/inspect/memory-bandwidth.ts explains the kernels).
// Run: npm run bench:bandwidth [-- MiB]   (default 1024 MiB, far beyond the L3 cache)
import { formatBandwidth, measureMemoryBandwidth } from '../src/inspect/memory-bandwidth';

const mib = Number(process.argv[2] ?? 1024);
if (!Number.isInteger(mib) || mib < 64) throw new Error(`buffer size must be an integer number of MiB, at least 64; got ${process.argv[2]}`);
measureMemoryBandwidth({ bytes: mib * 2 ** 20 }).then((b) => console.log(formatBandwidth(b)));
