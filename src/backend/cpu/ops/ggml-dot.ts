// Weights times activations with ggml's float32 rounding (llama.cpp emulation), for the weight
// types whose x86 kernels are reproduced here. For quantized weights ggml computes the products
// of integer codes exactly and rounds only where it turns integer sums into floats — the block
// scales' product, one fused multiply-add per block (or group of sub-blocks) into a float32
// accumulator lane, and a horizontal sum of the lanes at the end; f32 / f16 weights go through
// float32 FMA lanes. A float64 dot of the dequantized values lands about a float32 ulp away from
// that, and such an ulp, where a value is rounded again later (f16 K/V, int8 activations), grows
// into a visible difference. Not reproduced (float64 dot): BF16 and the IQ types.
//
// Each kernel says which ggml function it reproduces. The activation rows arrive as float32 and
// are quantized here as ggml's x86 code quantizes them: Q8_0 with quantize_row_q8_0's SIMD
// rounding (below), Q8_K with the reference quantizer, which x86 quantize_row_q8_K calls and
// ggml_quantize_mat_q8_K_4x8 (repack.cpp) matches (but for the sign of d when +amax and -amax
// both occur in a block).
import { F16_TO_F32, f32ToF16 } from '../../../quant/half';
import { typeByName } from '../../../quant/types';
import { GGML_LANES, GGML_SIMD, fma32, foldSum, tinyBlasDot, vecDot } from './ggml-float';

const fr = Math.fround;
// The hot loops use these module-level copies: under tsx an imported binding costs a getter call
// on every use.
const [fma, fold, F16, toF16, tinyDot, vecDotF] = [fma32, foldSum, F16_TO_F32, f32ToF16, tinyBlasDot, vecDot];

export interface GgmlLinearKernel {
  /** The vec_dot_type ggml quantizes the activations to for this weight type. */
  activation: string;
  /** Whether this kernel is ggml's for `outFeatures` (repacking needs whole groups of 8 rows). */
  applies(outFeatures: number): boolean;
  run(x: Float32Array, rows: number, width: number, weight: Uint8Array | Float32Array, outFeatures: number, out: Float32Array): void;
}

/**
 * Weight type -> ggml's x86 kernel for it, as emulated here. Other types use the float64 dot.
 * 'F32' is an f32 weight (activation type 'F32': llama.cpp mode, activations not rounded).
 */
export const GGML_LINEAR: Record<string, GgmlLinearKernel> = {
  F32: { activation: 'F32', applies: () => true, run: (x, r, w, wt, o, out) => linearFloat(x, r, w, wt as Float32Array, o, out, false) },
  F16: { activation: 'F16', applies: () => true, run: (x, r, w, wt, o, out) => linearFloat(x, r, w, decodeF16(wt as Uint8Array), o, out, true) },
  Q8_0: { activation: 'Q8_0', applies: () => true, run: (x, r, w, wt, o, out) => linearQ0Lanes(DECODE_Q0.Q8_0, x, r, w, wt as Uint8Array, o, out) },
  Q5_0: { activation: 'Q8_0', applies: () => true, run: (x, r, w, wt, o, out) => linearQ0Lanes(DECODE_Q0.Q5_0, x, r, w, wt as Uint8Array, o, out) },
  // ggml-cpu/repack.cpp repacks Q4_0 weights to q4_0_8x8 on AVX2 / AVX-512 when rows % 8 == 0
  Q4_0: {
    activation: 'Q8_0',
    applies: () => true,
    run: (x, r, w, wt, o, out) => (o % 8 === 0 ? linearQ4_0(x, r, w, wt, o, out) : linearQ0Lanes(DECODE_Q0.Q4_0, x, r, w, wt as Uint8Array, o, out)),
  },
  Q4_1: { activation: 'Q8_1', applies: () => true, run: (x, r, w, wt, o, out) => linearQx_1(x, r, w, wt as Uint8Array, o, out, false) },
  Q5_1: { activation: 'Q8_1', applies: () => true, run: (x, r, w, wt, o, out) => linearQx_1(x, r, w, wt as Uint8Array, o, out, true) },
  // ggml-cpu/repack.cpp repacks Q4_K weights to q4_K_8x8 on AVX2 / AVX-512 when rows % 8 == 0
  Q4_K: { activation: 'Q8_K', applies: (o) => o % 8 === 0, run: linearQ4_K },
  Q2_K: { activation: 'Q8_K', applies: () => true, run: linearQ2_K },
  Q3_K: { activation: 'Q8_K', applies: () => true, run: linearQ3_K },
  Q5_K: { activation: 'Q8_K', applies: () => true, run: linearQ5_K },
  Q6_K: { activation: 'Q8_K', applies: () => true, run: linearQ6_K },
};

function quantizeRows(x: Float32Array, rows: number, width: number, typeName: string): Uint8Array {
  const type = typeByName(typeName)!;
  const rowBytes = (width / type.blockSize) * type.typeSize;
  const bytes = new Uint8Array(rows * rowBytes);
  for (let r = 0; r < rows; r++) type.codec!.quantize(x.subarray(r * width, (r + 1) * width), bytes.subarray(r * rowBytes, (r + 1) * rowBytes));
  return bytes;
}

const f16At = (b: Uint8Array, o: number) => F16[b[o] | (b[o + 1] << 8)];

/** Round half to even, as _mm256_round_ps(_MM_ROUND_NEAREST) does (for |v| < 2^52). */
function roundEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Activation rows to Q8_1 as x86 quantize_row_q8_1 (ggml-cpu/arch/x86/quants.c): Q8_0's codes, s = f16(d * sum of codes). */
function quantizeQ8_1(x: Float32Array, rows: number, width: number): Uint8Array {
  const q8 = quantizeQ8_0(x, rows, width);
  const nb = (rows * width) / 32;
  const bytes = new Uint8Array(nb * 36);
  for (let b = 0; b < nb; b++) {
    let amax = 0;
    for (let i = 32 * b; i < 32 * b + 32; i++) amax = Math.max(amax, Math.abs(x[i]));
    let sum = 0;
    for (let i = 0; i < 32; i++) sum += (q8[b * 34 + 2 + i] << 24) >> 24;
    const sh = f32ToF16(fr(fr(amax / 127) * sum));
    bytes[b * 36] = q8[b * 34];
    bytes[b * 36 + 1] = q8[b * 34 + 1];
    bytes[b * 36 + 2] = sh & 0xff;
    bytes[b * 36 + 3] = sh >> 8;
    bytes.set(q8.subarray(b * 34 + 2, b * 34 + 34), b * 36 + 4);
  }
  return bytes;
}

/**
 * Activation rows to Q8_0 as x86 ggml does it — quantize_row_q8_0 in ggml-cpu/arch/x86/quants.c,
 * not quantize_row_q8_0_ref: the multiplier is 127/amax (not 1/d) and codes round half to even
 * (not half away from zero), so a code can differ by one from the reference quantizer's.
 */
function quantizeQ8_0(x: Float32Array, rows: number, width: number): Uint8Array {
  const nb = (rows * width) / 32;
  const bytes = new Uint8Array(nb * 34);
  for (let b = 0; b < nb; b++) {
    let amax = 0;
    for (let i = 32 * b; i < 32 * b + 32; i++) amax = Math.max(amax, Math.abs(x[i]));
    const h = f32ToF16(fr(amax / 127));
    bytes[b * 34] = h & 0xff;
    bytes[b * 34 + 1] = h >> 8;
    const id = amax !== 0 ? fr(127 / amax) : 0;
    for (let i = 0; i < 32; i++) bytes[b * 34 + 2 + i] = roundEven(fr(x[32 * b + i] * id)) & 0xff;
  }
  return bytes;
}

/** One weight row as int8 codes (32 per block, signed) and its blocks' scales. */
type RowDecoder = (weight: Uint8Array, o: number, nb: number, q: Int8Array, d: Float32Array) => void;

/** Q8_0 / Q5_0 / Q4_0 rows to signed codes (ggml-common.h block layouts). */
const DECODE_Q0: Record<string, RowDecoder> = {
  Q8_0: (w, o, nb, q, d) => {
    for (let b = 0; b < nb; b++) {
      const at = (o * nb + b) * 34;
      d[b] = f16At(w, at);
      for (let i = 0; i < 32; i++) q[32 * b + i] = (w[at + 2 + i] << 24) >> 24;
    }
  },
  Q5_0: (w, o, nb, q, d) => {
    for (let b = 0; b < nb; b++) {
      const at = (o * nb + b) * 22;
      d[b] = f16At(w, at);
      const qh = (w[at + 2] | (w[at + 3] << 8) | (w[at + 4] << 16) | (w[at + 5] << 24)) >>> 0;
      for (let j = 0; j < 16; j++) {
        q[32 * b + j] = ((w[at + 6 + j] & 0xf) | (((qh >>> j) & 1) << 4)) - 16;
        q[32 * b + j + 16] = ((w[at + 6 + j] >> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16;
      }
    }
  },
  Q4_0: (w, o, nb, q, d) => {
    for (let b = 0; b < nb; b++) {
      const at = (o * nb + b) * 18;
      d[b] = f16At(w, at);
      for (let j = 0; j < 16; j++) {
        q[32 * b + j] = (w[at + 2 + j] & 0xf) - 8;
        q[32 * b + j + 16] = (w[at + 2 + j] >> 4) - 8;
      }
    }
  },
};

/**
 * Q8_0 / Q5_0 / Q4_0 x Q8_0: ggml_vec_dot_q8_0_q8_0 / _q5_0_q8_0 / _q4_0_q8_0
 * (ggml-cpu/arch/x86/quants.c, one activation row) and llamafile's tinyBLAS_Q0_AVX
 * (ggml-cpu/llamafile/sgemm.cpp, batches) round alike: per 32-value block, eight int32 lanes of
 * four products each, times f32(d_w) * f32(d_x) rounded to float32, fused-added into eight float32
 * lanes; then hsum_float_8. (Q4_0 goes this way only when not repacked, see linearQ4_0.)
 */
function linearQ0Lanes(decode: RowDecoder, x: Float32Array, rows: number, width: number, weight: Uint8Array, outFeatures: number, out: Float32Array): void {
  const nb = width / 32;
  const act = quantizeQ8_0(x, rows, width);
  const aq = new Int8Array(act.buffer, act.byteOffset, act.length);
  const ad = new Float32Array(rows * nb);
  for (let i = 0; i < rows * nb; i++) ad[i] = f16At(act, i * 34);
  const q = new Int8Array(width);
  const d = new Float32Array(nb);
  const lanes = new Float64Array(8);
  for (let o = 0; o < outFeatures; o++) {
    decode(weight, o, nb, q, d);
    for (let r = 0; r < rows; r++) {
      lanes.fill(0);
      for (let b = 0; b < nb; b++) {
        const db = fr(d[b] * ad[r * nb + b]);
        const ab = (r * nb + b) * 34 + 2;
        for (let l = 0; l < 8; l++) {
          const wi = 32 * b + 4 * l;
          const ai = ab + 4 * l;
          const isum = q[wi] * aq[ai] + q[wi + 1] * aq[ai + 1] + q[wi + 2] * aq[ai + 2] + q[wi + 3] * aq[ai + 3];
          lanes[l] = fma(db, isum, lanes[l]);
        }
      }
      out[r * outFeatures + o] = fold(lanes, 0, 8);
    }
  }
}

/** Q8_K activation rows: d (float32), codes, and per-32 sums of the codes. */
interface Q8KRows {
  d: Float32Array; // [rows * nb]
  q: Int8Array; // [rows * width]
  sum32: Int32Array; // [rows * width / 32]
}

function quantizeQ8K(x: Float32Array, rows: number, width: number): Q8KRows {
  const BS = 292;
  const nb = width / 256;
  const bytes = quantizeRows(x, rows, width, 'Q8_K');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const d = new Float32Array(rows * nb);
  const q = new Int8Array(rows * width);
  const sum32 = new Int32Array((rows * width) / 32);
  for (let blk = 0; blk < rows * nb; blk++) {
    d[blk] = view.getFloat32(blk * BS, true);
    for (let i = 0; i < 256; i++) {
      const v = (bytes[blk * BS + 4 + i] << 24) >> 24;
      q[blk * 256 + i] = v;
      sum32[blk * 8 + (i >> 5)] += v;
    }
  }
  return { d, q, sum32 };
}

/**
 * Q4_K x Q8_K as ggml's repacked q4_K_8x8 kernels (ggml-cpu/arch/x86/repack.cpp):
 * ggml_gemm_q4_K_8x8_q8_K for rows in groups of four, ggml_gemv_q4_K_8x8_q8_K for the rest
 * (ggml-cpu/repack.cpp forward_mul_mat_one_chunk). Per 256-value super-block both take exact
 * integer sums scale_j * (q4 . q8) and min_j * sum(q8) and fuse-add them, times
 * f32(d_w) * d_x and f32(dmin_w) * d_x, into two float32 accumulators (gemm: once per pair of
 * 32-value sub-blocks; gemv: once per super-block); the result is acc - acc_min.
 */
function linearQ4_K(x: Float32Array, rows: number, width: number, weightData: Uint8Array | Float32Array, outFeatures: number, out: Float32Array): void {
  // local aliases: imported bindings cost a getter call per use under tsx
  const weight = weightData as Uint8Array;
  const BS = 144;
  const nb = width / 256;
  const a = quantizeQ8K(x, rows, width);
  const gemmRows = rows > 3 ? rows - (rows % 4) : 0;
  const q = new Uint8Array(width);
  const d = new Float32Array(nb);
  const dmin = new Float32Array(nb);
  const sc = new Int32Array(nb * 8);
  const mn = new Int32Array(nb * 8);
  const dots = new Int32Array(nb * 8);
  for (let o = 0; o < outFeatures; o++) {
    // decode row o: get_scale_min_k4 (ggml-quants.c) for the 6-bit scales and mins
    for (let b = 0; b < nb; b++) {
      const w = (o * nb + b) * BS;
      d[b] = f16At(weight, w);
      dmin[b] = f16At(weight, w + 2);
      const s = w + 4;
      for (let j = 0; j < 8; j++) {
        if (j < 4) {
          sc[b * 8 + j] = weight[s + j] & 63;
          mn[b * 8 + j] = weight[s + j + 4] & 63;
        } else {
          sc[b * 8 + j] = (weight[s + j + 4] & 0xf) | ((weight[s + j - 4] >> 6) << 4);
          mn[b * 8 + j] = (weight[s + j + 4] >> 4) | ((weight[s + j] >> 6) << 4);
        }
      }
      for (let c = 0; c < 4; c++) {
        for (let l = 0; l < 32; l++) {
          const byte = weight[w + 16 + 32 * c + l];
          q[b * 256 + 64 * c + l] = byte & 0xf;
          q[b * 256 + 64 * c + 32 + l] = byte >> 4;
        }
      }
    }
    for (let r = 0; r < rows; r++) {
      const qa = r * width;
      for (let j = 0; j < nb * 8; j++) {
        let s = 0;
        for (let i = 32 * j; i < 32 * j + 32; i++) s += q[i] * a.q[qa + i];
        dots[j] = s;
      }
      let acc = 0;
      let accMin = 0;
      for (let b = 0; b < nb; b++) {
        const da = a.d[r * nb + b];
        const scale = fr(d[b] * da);
        const minScale = fr(dmin[b] * da);
        const k = b * 8;
        const s32 = (r * width) / 32 + k;
        if (r < gemmRows) {
          for (let sb = 0; sb < 4; sb++) {
            const j = k + 2 * sb;
            const isum = sc[j] * dots[j] + sc[j + 1] * dots[j + 1];
            const imin = mn[j] * a.sum32[s32 + 2 * sb] + mn[j + 1] * a.sum32[s32 + 2 * sb + 1];
            acc = fma(fr(isum), scale, acc);
            accMin = fma(fr(imin), minScale, accMin);
          }
        } else {
          let isum = 0;
          let imin = 0;
          for (let j = 0; j < 8; j++) {
            isum += sc[k + j] * dots[k + j];
            imin += mn[k + j] * a.sum32[s32 + j];
          }
          acc = fma(fr(isum), scale, acc);
          accMin = fma(fr(imin), minScale, accMin);
        }
      }
      out[r * outFeatures + o] = fr(acc - accMin);
    }
  }
}

/**
 * Q6_K x Q8_K: ggml_vec_dot_q6_K_q8_K (ggml-cpu/arch/x86/quants.c, AVX2 path, also in AVX-512
 * builds). Per super-block, eight int32 lanes: lane t sums scale * q6 * q8 over the values
 * 32c + 4t + u (c < 8, u < 4) — the 6-bit codes unsigned — minus 32 * (scale * sum of q8) over the
 * two 16-value groups 2t and 2t+1; each lane fuse-added times f32(d_x * d_w) into a float32 lane,
 * then hsum_float_8.
 */
function linearQ6_K(x: Float32Array, rows: number, width: number, weightData: Uint8Array | Float32Array, outFeatures: number, out: Float32Array): void {
  const weight = weightData as Uint8Array;
  const BS = 210;
  const nb = width / 256;
  const a = quantizeQ8K(x, rows, width);
  // per activation row and 16-value group: the sum of the codes (ggml's bsums)
  const sum16 = new Int32Array((rows * width) / 16);
  for (let i = 0; i < rows * width; i++) sum16[i >> 4] += a.q[i];
  const sq = new Int32Array(width); // scale * 6-bit code (0..63) of each value of row o
  const sc = new Int32Array(nb * 16);
  const d = new Float32Array(nb);
  const lanes = new Float64Array(8);
  const isum = new Int32Array(8);
  for (let o = 0; o < outFeatures; o++) {
    // decode row o (dequantize_row_q6_K's layout): ql[128], qh[64], scales[16], d
    for (let b = 0; b < nb; b++) {
      const w = (o * nb + b) * BS;
      for (let j = 0; j < 16; j++) sc[b * 16 + j] = (weight[w + 192 + j] << 24) >> 24;
      d[b] = f16At(weight, w + 208);
      for (let n = 0; n < 2; n++) {
        const ql = w + 64 * n;
        const qh = w + 128 + 32 * n;
        const y = b * 256 + 128 * n;
        for (let l = 0; l < 32; l++) {
          sq[y + l] = (weight[ql + l] & 0xf) | ((weight[qh + l] & 3) << 4);
          sq[y + l + 32] = (weight[ql + l + 32] & 0xf) | (((weight[qh + l] >> 2) & 3) << 4);
          sq[y + l + 64] = (weight[ql + l] >> 4) | (((weight[qh + l] >> 4) & 3) << 4);
          sq[y + l + 96] = (weight[ql + l + 32] >> 4) | (((weight[qh + l] >> 6) & 3) << 4);
        }
      }
      for (let e = 0; e < 256; e++) sq[b * 256 + e] *= sc[b * 16 + (e >> 4)];
    }
    for (let r = 0; r < rows; r++) {
      lanes.fill(0);
      for (let b = 0; b < nb; b++) {
        const dd = fr(a.d[r * nb + b] * d[b]);
        const base = b * 256;
        const qa = r * width + base;
        isum.fill(0);
        for (let e = 0; e < 256; e++) isum[(e >> 2) & 7] += sq[base + e] * a.q[qa + e];
        const g = (r * width + base) >> 4;
        for (let t = 0; t < 8; t++) {
          const sub = 32 * (sc[b * 16 + 2 * t] * sum16[g + 2 * t] + sc[b * 16 + 2 * t + 1] * sum16[g + 2 * t + 1]);
          lanes[t] = fma(dd, fr(isum[t] - sub), lanes[t]);
        }
      }
      out[r * outFeatures + o] = fold(lanes, 0, 8);
    }
  }
}

function decodeF16(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length / 2);
  const halves = bytes.byteOffset % 2 === 0 ? new Uint16Array(bytes.buffer, bytes.byteOffset, out.length) : null;
  if (halves) for (let i = 0; i < out.length; i++) out[i] = F16[halves[i]];
  else for (let i = 0; i < out.length; i++) out[i] = f16At(bytes, 2 * i);
  return out;
}

/**
 * f32 or f16 weights: ggml's mul_mat uses llamafile's tinyBLAS (sgemm.cpp; f16 after converting
 * the activations to f16) for >= 2 rows when the width is whole vectors and the weight rows a
 * multiple of 4, else ggml_vec_dot_f32 / ggml_vec_dot_f16 (vec.cpp) row by row.
 */
function linearFloat(x: Float32Array, rows: number, width: number, weight: Float32Array, outFeatures: number, out: Float32Array, f16: boolean): void {
  const acts = f16 ? x.map((v) => F16[toF16(v)]) : x;
  const L = GGML_LANES;
  const tiny = rows >= 2 && width % L === 0 && outFeatures % 4 === 0;
  const simdEnd = width & ~(4 * L - 1);
  const lanes = new Float64Array(4 * L);
  for (let o = 0; o < outFeatures; o++) {
    for (let r = 0; r < rows; r++) {
      out[r * outFeatures + o] = tiny
        ? tinyDot(weight, o * width, acts, r * width, 1, width, f16, lanes)
        : vecDotF(weight, o * width, acts, r * width, 1, width, simdEnd, f16, lanes);
    }
  }
}

/**
 * Q4_0 x Q8_0 as ggml's repacked q4_0_8x8 kernels (ggml-cpu/arch/x86/repack.cpp,
 * gemm_q4_b32_8x8_q8_0_lut_avx / gemv_q4_b32_8x8_q8_0_lut_avx): per 32-value block the exact
 * integer dot (q4 - 8) . q8, fused-added times f32(d_w) * f32(d_x) into one float32 accumulator.
 */
function linearQ4_0(x: Float32Array, rows: number, width: number, weightData: Uint8Array | Float32Array, outFeatures: number, out: Float32Array): void {
  const weight = weightData as Uint8Array;
  const nb = width / 32;
  const act = quantizeQ8_0(x, rows, width);
  const aq = new Int8Array(act.buffer, act.byteOffset, act.length);
  const q = new Int8Array(width);
  const d = new Float32Array(nb);
  for (let o = 0; o < outFeatures; o++) {
    DECODE_Q0.Q4_0(weight, o, nb, q, d);
    for (let r = 0; r < rows; r++) {
      let acc = 0;
      for (let b = 0; b < nb; b++) {
        const a = (r * nb + b) * 34;
        let isum = 0;
        for (let i = 0; i < 32; i++) isum += q[32 * b + i] * aq[a + 2 + i];
        acc = fma(isum, fr(d[b] * f16At(act, a)), acc);
      }
      out[r * outFeatures + o] = acc;
    }
  }
}

/**
 * Q4_1 / Q5_1 x Q8_1: ggml_vec_dot_q4_1_q8_1 / ggml_vec_dot_q5_1_q8_1 (ggml-cpu/arch/x86/quants.c,
 * AVX2 path): per block eight int32 lanes of four products (unsigned codes times the int8
 * activations) fused-added times f32(d_w) * f32(d_x) into eight float32 lanes, and
 * summs += m_w * s_x (s_x the activation block's f16 d * sum of codes, fused); hsum_float_8 + summs.
 */
function linearQx_1(x: Float32Array, rows: number, width: number, weight: Uint8Array, outFeatures: number, out: Float32Array, five: boolean): void {
  const BS = five ? 24 : 20;
  const nb = width / 32;
  const act = quantizeQ8_1(x, rows, width);
  const aq = new Int8Array(act.buffer, act.byteOffset, act.length);
  const q = new Uint8Array(width);
  const d = new Float32Array(nb);
  const m = new Float32Array(nb);
  const lanes = new Float64Array(8);
  for (let o = 0; o < outFeatures; o++) {
    for (let b = 0; b < nb; b++) {
      const w = (o * nb + b) * BS;
      d[b] = f16At(weight, w);
      m[b] = f16At(weight, w + 2);
      const qs = w + (five ? 8 : 4);
      const qh = five ? (weight[w + 4] | (weight[w + 5] << 8) | (weight[w + 6] << 16) | (weight[w + 7] << 24)) >>> 0 : 0;
      for (let j = 0; j < 16; j++) {
        q[32 * b + j] = (weight[qs + j] & 0xf) | (five ? ((qh >>> j) & 1) << 4 : 0);
        q[32 * b + j + 16] = (weight[qs + j] >> 4) | (five ? ((qh >>> (j + 16)) & 1) << 4 : 0);
      }
    }
    for (let r = 0; r < rows; r++) {
      lanes.fill(0);
      let summs = 0;
      for (let b = 0; b < nb; b++) {
        const a = (r * nb + b) * 36;
        summs = fma(m[b], f16At(act, a + 2), summs);
        const dd = fr(d[b] * f16At(act, a));
        for (let t = 0; t < 8; t++) {
          let isum = 0;
          for (let u = 0; u < 4; u++) isum += q[32 * b + 4 * t + u] * aq[a + 4 + 4 * t + u];
          lanes[t] = fma(isum, dd, lanes[t]);
        }
      }
      out[r * outFeatures + o] = fr(fold(lanes, 0, 8) + summs);
    }
  }
}

/**
 * Q5_K x Q8_K: ggml_vec_dot_q5_K_q8_K (ggml-cpu/arch/x86/quants.c, AVX2 path, also in AVX-512
 * builds). Per super-block, eight int32 lanes: lane t sums scale_j * q5 * q8 over the values
 * 32c + 4t + u (c < 8, u < 4), fuse-added times f32(d_x * d_w) into a float32 lane; the mins go
 * into a float32 sum, summs += f32(-d_x * dmin_w) * sum_j min_j * sum(q8 of sub-block j) (fused).
 * Result hsum_float_8(lanes) + summs.
 */
function linearQ5_K(x: Float32Array, rows: number, width: number, weightData: Uint8Array | Float32Array, outFeatures: number, out: Float32Array): void {
  const weight = weightData as Uint8Array;
  const BS = 176;
  const nb = width / 256;
  const a = quantizeQ8K(x, rows, width);
  const sq = new Int32Array(width); // scale * 5-bit code of each value of row o
  const mn = new Int32Array(nb * 8);
  const d = new Float32Array(nb);
  const dmin = new Float32Array(nb);
  const lanes = new Float64Array(8);
  const isum = new Int32Array(8);
  for (let o = 0; o < outFeatures; o++) {
    for (let b = 0; b < nb; b++) {
      const w = (o * nb + b) * BS;
      d[b] = f16At(weight, w);
      dmin[b] = f16At(weight, w + 2);
      const s = w + 4;
      for (let j = 0; j < 8; j++) {
        // get_scale_min_k4 (ggml-quants.c)
        const sc = j < 4 ? weight[s + j] & 63 : (weight[s + j + 4] & 0xf) | ((weight[s + j - 4] >> 6) << 4);
        mn[b * 8 + j] = j < 4 ? weight[s + j + 4] & 63 : (weight[s + j + 4] >> 4) | ((weight[s + j] >> 6) << 4);
        const c = j >> 1; // 64-value chunk: low nibbles for even j, high for odd
        for (let l = 0; l < 32; l++) {
          const byte = weight[w + 48 + 32 * c + l];
          const code = (j & 1 ? byte >> 4 : byte & 0xf) | (((weight[w + 16 + l] >> j) & 1) << 4);
          sq[b * 256 + 32 * j + l] = sc * code;
        }
      }
    }
    for (let r = 0; r < rows; r++) {
      lanes.fill(0);
      let summs = 0;
      for (let b = 0; b < nb; b++) {
        const da = a.d[r * nb + b];
        const dd = fr(da * d[b]);
        const dm = fr(-da * dmin[b]);
        let imin = 0;
        for (let j = 0; j < 8; j++) imin += mn[b * 8 + j] * a.sum32[(r * width) / 32 + b * 8 + j];
        summs = fma(dm, fr(imin), summs);
        const base = b * 256;
        const qa = r * width + base;
        isum.fill(0);
        for (let e = 0; e < 256; e++) isum[(e >> 2) & 7] += sq[base + e] * a.q[qa + e];
        for (let t = 0; t < 8; t++) lanes[t] = fma(dd, fr(isum[t]), lanes[t]);
      }
      out[r * outFeatures + o] = fr(fold(lanes, 0, 8) + summs);
    }
  }
}

/**
 * Q3_K x Q8_K: ggml_vec_dot_q3_K_q8_K (ggml-cpu/arch/x86/quants.c, AVX2 path, also in AVX-512
 * builds): as Q6_K's, eight int32 lanes of scale * q3 * q8 over the values 32c + 4t + u, the
 * 3-bit codes signed (low bits minus 4 where the hmask bit is clear) and the 6-bit scales minus 32,
 * each lane fuse-added times f32(d_x * d_w) into a float32 lane; then hsum_float_8.
 */
function linearQ3_K(x: Float32Array, rows: number, width: number, weightData: Uint8Array | Float32Array, outFeatures: number, out: Float32Array): void {
  const weight = weightData as Uint8Array;
  const BS = 110;
  const nb = width / 256;
  const a = quantizeQ8K(x, rows, width);
  const sq = new Int32Array(width); // scale * signed 3-bit code of each value of row o
  const sc = new Int32Array(16);
  const d = new Float32Array(nb);
  const lanes = new Float64Array(8);
  const isum = new Int32Array(8);
  for (let o = 0; o < outFeatures; o++) {
    for (let b = 0; b < nb; b++) {
      const w = (o * nb + b) * BS;
      d[b] = f16At(weight, w + 108);
      // the 16 six-bit scales (dequantize_row_q3_K's unpacking), minus 32
      for (let j = 0; j < 16; j++) {
        const low = j < 8 ? weight[w + 96 + j] & 0xf : weight[w + 96 + j - 8] >> 4;
        const high = (weight[w + 104 + (j & 3)] >> (2 * (j >> 2))) & 3;
        sc[j] = (low | (high << 4)) - 32;
      }
      for (let n = 0; n < 2; n++) {
        for (let j = 0; j < 4; j++) {
          for (let l = 0; l < 32; l++) {
            const e = 128 * n + 32 * j + l;
            const low = (weight[w + 32 + 32 * n + l] >> (2 * j)) & 3;
            const code = low - ((weight[w + l] >> (4 * n + j)) & 1 ? 0 : 4);
            sq[b * 256 + e] = sc[e >> 4] * code;
          }
        }
      }
    }
    for (let r = 0; r < rows; r++) {
      lanes.fill(0);
      for (let b = 0; b < nb; b++) {
        const dd = fr(a.d[r * nb + b] * d[b]);
        const base = b * 256;
        const qa = r * width + base;
        isum.fill(0);
        for (let e = 0; e < 256; e++) isum[(e >> 2) & 7] += sq[base + e] * a.q[qa + e];
        for (let t = 0; t < 8; t++) lanes[t] = fma(dd, fr(isum[t]), lanes[t]);
      }
      out[r * outFeatures + o] = fold(lanes, 0, 8);
    }
  }
}

/**
 * Q2_K x Q8_K. On AVX-512 ggml repacks Q2_K weights (rows % 8 == 0) to q2_K_8x8
 * (ggml-cpu/repack.cpp) and multiplies with ggml_gemm_q2_K_8x8_q8_K (rows in groups of four; one
 * fused multiply-add per 128-value half of a super-block into acc and acc_min) and
 * ggml_gemv_q2_K_8x8_q8_K (the rest; one per super-block), result acc - acc_min — as Q4_K's.
 * Otherwise ggml_vec_dot_q2_K_q8_K (ggml-cpu/arch/x86/quants.c, AVX2): per super-block eight
 * float32 lanes take first f32(-d_x * dmin_w) * (min * bsum over 16-value groups 2t, 2t+1), then
 * f32(d_x * d_w) * (scale * q2 * q8 over the values 32c + 4t + u), both fused; hsum_float_8.
 */
function linearQ2_K(x: Float32Array, rows: number, width: number, weightData: Uint8Array | Float32Array, outFeatures: number, out: Float32Array): void {
  const weight = weightData as Uint8Array;
  const BS = 84;
  const nb = width / 256;
  const repacked = GGML_SIMD === 'avx512' && outFeatures % 8 === 0;
  const gemmRows = repacked && rows > 3 ? rows - (rows % 4) : 0;
  const a = quantizeQ8K(x, rows, width);
  const sum16 = new Int32Array((rows * width) / 16);
  for (let i = 0; i < rows * width; i++) sum16[i >> 4] += a.q[i];
  const sq = new Int32Array(width); // scale * 2-bit code of each value of row o
  const mn = new Int32Array(nb * 16);
  const d = new Float32Array(nb);
  const dmin = new Float32Array(nb);
  const lanes = new Float64Array(8);
  const isum = new Int32Array(8);
  for (let o = 0; o < outFeatures; o++) {
    for (let b = 0; b < nb; b++) {
      const w = (o * nb + b) * BS;
      d[b] = f16At(weight, w + 80);
      dmin[b] = f16At(weight, w + 82);
      for (let j = 0; j < 16; j++) mn[b * 16 + j] = weight[w + j] >> 4;
      for (let e = 0; e < 256; e++) {
        const code = (weight[w + 16 + 32 * (e >> 7) + (e & 31)] >> (2 * ((e >> 5) & 3))) & 3;
        sq[b * 256 + e] = (weight[w + (e >> 4)] & 0xf) * code;
      }
    }
    for (let r = 0; r < rows; r++) {
      lanes.fill(0);
      let acc = 0;
      let accMin = 0;
      for (let b = 0; b < nb; b++) {
        const da = a.d[r * nb + b];
        const base = b * 256;
        const qa = r * width + base;
        const g = qa >> 4;
        if (repacked) {
          const scale = fr(d[b] * da);
          const minScale = fr(dmin[b] * da);
          // per 128-value half (gemm) or per super-block (gemv): sums of scale * dot and min * bsum
          const span = r < gemmRows ? 128 : 256;
          for (let h = 0; h < 256; h += span) {
            let s = 0;
            let m = 0;
            for (let e = h; e < h + span; e++) s += sq[base + e] * a.q[qa + e];
            for (let j = h >> 4; j < (h + span) >> 4; j++) m += mn[b * 16 + j] * sum16[g + j];
            acc = fma(fr(s), scale, acc);
            accMin = fma(fr(m), minScale, accMin);
          }
        } else {
          const dd = fr(da * d[b]);
          const dm = fr(-da * dmin[b]);
          isum.fill(0);
          for (let e = 0; e < 256; e++) isum[(e >> 2) & 7] += sq[base + e] * a.q[qa + e];
          for (let t = 0; t < 8; t++) {
            const m = mn[b * 16 + 2 * t] * sum16[g + 2 * t] + mn[b * 16 + 2 * t + 1] * sum16[g + 2 * t + 1];
            lanes[t] = fma(dm, fr(m), lanes[t]);
          }
          for (let t = 0; t < 8; t++) lanes[t] = fma(dd, fr(isum[t]), lanes[t]);
        }
      }
      out[r * outFeatures + o] = repacked ? fr(acc - accMin) : fold(lanes, 0, 8);
    }
  }
}
