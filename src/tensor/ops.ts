// Every op of the tensor library, declared once: its kind (which decides how it is scheduled),
// its arguments, and the rule giving its output shape and dtype. Each backend implements the
// same list; the CPU kernels (src/backend/cpu) are the definition of what each op computes.
//
// Kinds:
//   source      — data already on a device (uploaded arrays, GGUF weights)
//   elementwise — one output element from the same element of each input; chains of these fuse
//                 into one kernel, and movement ops (views) on their inputs fold into the loads
//   reduce      — along one axis
//   special     — ops with their own kernel: matmul, linear (quantized weights), rmsNorm, rope,
//                 softmax, getRows, concat
//   write       — the ops that change a buffer in place: copy their second input into their first
//                 (a buffer that outlives passes, like a preallocated KV cache) and return that
//                 buffer, so nothing is allocated or copied per token. `write` puts the elements at
//                 a fixed offset; `writeRows` puts row i at the row its third input (i32) names,
//                 so the place comes from device data and a recorded plan (plan.ts) can replay it

import type { DType } from './dtype';
import type { Shape } from './view';

// roundF16: round to the nearest f16 and back (llama.cpp stores its KV cache in f16 and multiplies
// f16 by f16 there; the llama.cpp numeric mode reproduces that rounding).
export const UNARY_OPS = ['neg', 'exp', 'log', 'sqrt', 'rsqrt', 'recip', 'abs', 'silu', 'gelu', 'tanh', 'roundF16', 'copy', 'castF32', 'castI32'] as const;
export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'lt', 'le', 'gt', 'ge', 'eq', 'ne'] as const;
export const REDUCE_OPS = ['sum', 'max', 'min', 'argmax'] as const;

export type UnaryOp = (typeof UNARY_OPS)[number];
export type BinaryOp = (typeof BINARY_OPS)[number];
export type ReduceOp = (typeof REDUCE_OPS)[number];
export type ElementwiseOp = UnaryOp | BinaryOp | 'where';

export interface RopeArgs {
  /** 'norm': rotate adjacent pairs (x[2i], x[2i+1]) — GGUF arch `llama`; 'neox': rotate halves (x[i], x[i + d/2]). */
  mode: 'norm' | 'neox';
  /** Leading dimensions of each head that rotate (the rest pass through). */
  dims: number;
  freqBase: number;
  /** Linear scaling: positions are multiplied by this (1 / llama.cpp's rope scaling factor). */
  freqScale: number;
}

export interface SoftmaxArgs {
  /** Multiply inputs by this before the softmax (e.g. 1/sqrt(head_dim)). */
  scale: number;
  /** Causal mask: element (.., i, j) is masked when j > i + offset. null: no mask. */
  causalOffset: number | null;
  /** llama.cpp emulation: round as ggml's CPU soft_max does (vectorized expf, float32 lanes). */
  ggml?: boolean;
}

export interface MatmulArgs {
  /**
   * llama.cpp emulation of an attention product (operands holding f16 values): round as ggml's
   * CPU mul_mat of f16 by f16 does (float32 FMA lanes). innerPad: llama.cpp pads the inner
   * dimension with zeros to a multiple of this (the KV cache length for P·V; 1 for q·K).
   */
  ggml?: { innerPad: number } | null;
}

export interface LinearArgs {
  /**
   * llama.cpp emulation: quantize each activation row to this type before the dot products
   * (Q8_0 for Q4_0/Q5_0/Q8_0 weights, Q8_1 for Q4_1/Q5_1, Q8_K for K-quants, F16 for F16).
   * null: exact float activations.
   */
  activationType: string | null;
}

export type OpArgs =
  | { op: 'source' }
  | { op: UnaryOp }
  | { op: BinaryOp }
  | { op: 'where' }
  | { op: ReduceOp; axis: number; keepDim: boolean }
  | ({ op: 'matmul' } & MatmulArgs)
  | ({ op: 'linear' } & LinearArgs)
  | { op: 'rmsNorm'; eps: number }
  | ({ op: 'rope' } & RopeArgs)
  | ({ op: 'softmax' } & SoftmaxArgs)
  | { op: 'getRows' }
  | { op: 'concat'; axis: number }
  /** Elements of srcs[1], row-major, written into srcs[0]'s buffer from element `offset` on. */
  | { op: 'write'; offset: number }
  /** Row i of srcs[1] written over row srcs[2][i] (i32) of srcs[0]'s buffer (llama.cpp's set_rows). */
  | { op: 'writeRows' };

export type OpName = OpArgs['op'];

export type OpKind = 'source' | 'elementwise' | 'reduce' | 'special' | 'write';

export function opKind(op: OpName): OpKind {
  if (op === 'source') return 'source';
  if ((UNARY_OPS as readonly string[]).includes(op) || (BINARY_OPS as readonly string[]).includes(op) || op === 'where') {
    return 'elementwise';
  }
  if ((REDUCE_OPS as readonly string[]).includes(op)) return 'reduce';
  if (op === 'write' || op === 'writeRows') return 'write';
  return 'special';
}

/** Output dtype of an elementwise op from its first input's dtype. */
export function elementwiseDType(op: ElementwiseOp, input: DType): DType {
  if (op === 'castF32') return 'f32';
  if (op === 'castI32') return 'i32';
  if (op === 'lt' || op === 'le' || op === 'gt' || op === 'ge' || op === 'eq' || op === 'ne') return 'f32';
  return input;
}

/** Output shape of a reduction. */
export function reduceShape(shape: Shape, axis: number, keepDim: boolean): number[] {
  return keepDim ? shape.map((d, i) => (i === axis ? 1 : d)) : shape.filter((_, i) => i !== axis);
}
