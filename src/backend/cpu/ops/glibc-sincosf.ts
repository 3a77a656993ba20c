// sinf/cosf as glibc 2.28-2.40 computes them on x86-64 (sysdeps/ieee754/flt-32/s_sincosf.c,
// s_sincosf.h, sincosf_poly.h, s_sincosf_data.c: the ARM optimized-routines algorithm), in the
// FMA variant glibc selects on CPUs with FMA (sysdeps/x86_64/fpu/multiarch/s_sincosf-fma.c,
// where GCC contracts every a + b*c into one fused multiply-add). ggml builds its RoPE cache with
// cosf/sinf (ggml-cpu/ops.cpp rope_yarn); glibc's results are within 0.56 ulp but not always
// correctly rounded, so Math.cos/Math.sin rounded to float32 differ from them in about 1% of
// angles — by one ulp, enough to flip the f16 rounding of a key.
import { hexFloat } from './ggml-float';

interface SinCosTable {
  hpiInv: number;
  hpi: number;
  c0: number;
  c1: number;
  c2: number;
  c3: number;
  c4: number;
  s1: number;
  s2: number;
  s3: number;
}

const h = hexFloat;
// __sincosf_table (the second entry negates the cosine polynomial), without TOINT_INTRINSICS
const TABLE: [SinCosTable, SinCosTable] = [
  { hpiInv: h('0x1.45F306DC9C883p+23'), hpi: h('0x1.921FB54442D18p0'), c0: 1, c1: h('-0x1.ffffffd0c621cp-2'), c2: h('0x1.55553e1068f19p-5'), c3: h('-0x1.6c087e89a359dp-10'), c4: h('0x1.99343027bf8c3p-16'), s1: h('-0x1.555545995a603p-3'), s2: h('0x1.1107605230bc4p-7'), s3: h('-0x1.994eb3774cf24p-13') },
  { hpiInv: h('0x1.45F306DC9C883p+23'), hpi: h('0x1.921FB54442D18p0'), c0: -1, c1: h('0x1.ffffffd0c621cp-2'), c2: h('-0x1.55553e1068f19p-5'), c3: h('0x1.6c087e89a359dp-10'), c4: h('-0x1.99343027bf8c3p-16'), s1: h('-0x1.555545995a603p-3'), s2: h('0x1.1107605230bc4p-7'), s3: h('-0x1.994eb3774cf24p-13') },
];
const SIGN = [1, -1, -1, 1];
const PI63 = h('0x1.921FB54442D18p-62');
// 4/pi to 192 bits, 8 new bits per entry (__inv_pio4)
const INV_PIO4 = [
  0xa2, 0xa2f9, 0xa2f983, 0xa2f9836e, 0xf9836e4e, 0x836e4e44, 0x6e4e4415, 0x4e441529, 0x441529fc, 0x1529fc27, 0x29fc2757, 0xfc2757d1,
  0x2757d1f5, 0x57d1f534, 0xd1f534dd, 0xf534ddc0, 0x34ddc0db, 0xddc0db62, 0xc0db6295, 0xdb629599, 0x6295993c, 0x95993c43, 0x993c4390, 0x3c439041,
].map(BigInt);

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const abstop12 = (bits: number) => (bits >>> 20) & 0x7ff;
const PIO4_TOP = abstop12(0x3f490fdb); // 0x1.921FB6p-1f
const TINY_TOP = abstop12(0x39800000); // 0x1p-12f
const LARGE_TOP = abstop12(0x42f00000); // 120.0f
const INF_TOP = abstop12(0x7f800000);

/** a*b + c in float64 with one rounding (to within a float64 ulp: only float32 results are used). */
function fma64(a: number, b: number, c: number): number {
  const p = a * b;
  let t = 134217729 * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = 134217729 * b;
  const bh = t - (t - b);
  const bl = b - bh;
  const ep = ah * bh - p + ah * bl + al * bh + al * bl;
  const s = p + c;
  const v = s - p;
  const es = p - (s - v) + (c - v);
  return s + (ep + es);
}

/** [sinf(y), cosf(y)] for a float32 y, bit for bit as glibc's FMA variant. */
export function glibcSinCosf(y: number): [number, number] {
  f32[0] = y;
  const bits = u32[0];
  const top = abstop12(bits);
  let x = f32[0];
  let p = TABLE[0];
  let n = 0;
  if (top < PIO4_TOP) {
    if (top < TINY_TOP) return [f32[0], 1];
  } else if (top < LARGE_TOP) {
    const r = x * p.hpiInv;
    n = ((Math.trunc(r) | 0) + 0x800000) >> 24;
    x = fma64(-n, p.hpi, x);
    if (n & 2) p = TABLE[1];
    x *= SIGN[n & 3];
  } else if (top < INF_TOP) {
    const sign = bits >>> 31;
    const arr = (bits >>> 26) & 15;
    const shift = (bits >>> 23) & 7;
    const xi = BigInt((((bits & 0xffffff) | 0x800000) << shift) >>> 0);
    const M64 = (1n << 64n) - 1n;
    let res0 = (xi * INV_PIO4[arr]) & 0xffffffffn;
    const res1 = xi * INV_PIO4[arr + 4];
    const res2 = xi * INV_PIO4[arr + 8];
    res0 = ((res2 >> 32n) | (res0 << 32n)) & M64;
    res0 = (res0 + res1) & M64;
    const nn = ((res0 + (1n << 61n)) & M64) >> 62n;
    res0 = (res0 - (nn << 62n)) & M64;
    n = Number(nn);
    x = Number(BigInt.asIntN(64, res0)) * PI63;
    if ((n + sign) & 2) p = TABLE[1];
    x *= SIGN[(n + sign) & 3];
  } else {
    return [NaN, NaN];
  }
  const x2 = x * x;
  const x4 = x2 * x2;
  const x3 = x2 * x;
  const c2 = fma64(x2, p.c4, p.c3);
  const s1 = fma64(x2, p.s3, p.s2);
  const c1 = fma64(x2, p.c1, p.c0);
  const x5 = x3 * x2;
  const x6 = x4 * x2;
  const s = fma64(x3, p.s1, x);
  const c = fma64(x4, p.c2, c1);
  const sin = Math.fround(fma64(x5, s1, s));
  const cos = Math.fround(fma64(x6, c2, c));
  return n & 1 ? [cos, sin] : [sin, cos];
}
