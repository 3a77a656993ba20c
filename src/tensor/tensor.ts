// The lazy Tensor. Every op builds a graph node and checks shapes and dtypes at once (naming both
// shapes); nothing computes until a value is asked for (`await t.data()`) or `realize(...)` runs,
// which schedules the whole graph: elementwise chains fuse into one kernel, views fold into loads,
// and intermediates are freed as soon as their last consumer has run.

import ndarray from 'ndarray';
import { Field, FixedSizeList, Schema, Table, makeData, makeVector, type Vector } from 'apache-arrow';
import type { GGUFFile } from '../gguf';
import type { Backend, DeviceBuffer } from './backend';
import { blockType, isComputeDType, type DType } from './dtype';
import {
  elementwiseDType,
  reduceShape,
  type BinaryOp,
  type ElementwiseOp,
  type LinearArgs,
  type MatmulArgs,
  type OpArgs,
  type ReduceOp,
  type RopeArgs,
  type UnaryOp,
} from './ops';
import { broadcastShapes, numel, replay, shapeString, View, type Movement, type Shape } from './view';
import { TensorError } from './errors';
import { defaultBackend } from './device';
import { realize } from './schedule';

let nextNodeId = 1;

/** One operation's result: its buffer once realized. Tensors are views (movements) of nodes. */
export class Node {
  readonly id = nextNodeId++;
  buffer: DeviceBuffer | null = null;
  /** The buffer belongs to another node (a `write` returns its target's buffer): never free it. */
  borrowsBuffer = false;
  /** Where the op was created, for errors at realize time: a stack, or the label set by `createdIn`. */
  readonly origin: Error | string | undefined;

  constructor(
    readonly args: OpArgs,
    readonly srcs: readonly Tensor[],
    readonly shape: Shape,
    readonly dtype: DType,
    readonly backend: Backend,
    /** A scalar constant: fused into kernels as a literal instead of a load. */
    readonly constValue?: number,
  ) {
    this.origin = originLabel ?? captureOrigin();
  }
}

let originLabel: string | null = null;

/**
 * Run `fn`, attributing the ops it creates to `label` ("the LLaMA forward pass after
 * blocks.3.attn.hook_q") in errors at realize time instead of capturing a stack for each: a stack
 * costs ~6 µs per op, a tenth of a decode step's host time.
 */
export function createdIn<T>(label: string, fn: () => T): T {
  const outer = originLabel;
  originLabel = label;
  try {
    return fn();
  } finally {
    originLabel = outer;
  }
}

function captureOrigin(): Error | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 12;
  const e = new Error('created here');
  Error.stackTraceLimit = limit;
  return e;
}

export type TensorData = Float32Array | Int32Array;

export class Tensor {
  readonly shape: Shape;

  private constructor(
    readonly node: Node,
    /** Movements applied since the node; replaying them on the node's contiguous view gives this tensor's view. */
    readonly moves: readonly Movement[],
    shape: Shape,
  ) {
    this.shape = shape;
  }

  static fromNode(node: Node): Tensor {
    return new Tensor(node, [], node.shape);
  }

  get dtype(): DType {
    return this.node.dtype;
  }
  get backend(): Backend {
    return this.node.backend;
  }
  get rank(): number {
    return this.shape.length;
  }
  get size(): number {
    return numel(this.shape);
  }

  /** This tensor's view of its node's buffer. */
  get view(): View {
    // Every movement is checked when created, so replaying on the contiguous base cannot fail.
    return replay(View.contiguous(this.node.shape), this.moves)!;
  }

  // ---------------------------------------------------------------------------------------------
  // Creation

  /** A tensor from numbers; shape defaults to [data.length]. */
  static from(data: ArrayLike<number>, shape: Shape = [data.length], options: { dtype?: 'f32' | 'i32'; backend?: Backend } = {}): Tensor {
    const dtype = options.dtype ?? (data instanceof Int32Array ? 'i32' : 'f32');
    if (numel(shape) !== data.length) {
      throw new TensorError(`Tensor.from: ${data.length} values do not fill shape ${shapeString(shape)} (${numel(shape)} elements)`);
    }
    const backend = options.backend ?? defaultBackend();
    const typed = dtype === 'i32' ? Int32Array.from(data) : Float32Array.from(data);
    const node = new Node({ op: 'source' }, [], shape, dtype, backend);
    node.buffer = backend.upload(typed, dtype, typed.length);
    return Tensor.fromNode(node);
  }

  /** An ndarray (any layout) as a tensor of the same shape. */
  static fromNdarray(nd: ndarray.NdArray, options: { dtype?: 'f32' | 'i32'; backend?: Backend } = {}): Tensor {
    const out = new Float32Array(nd.size);
    const idx = new Array<number>(nd.shape.length).fill(0);
    for (let i = 0; i < nd.size; i++) {
      out[i] = nd.get(...idx);
      for (let d = idx.length - 1; d >= 0; d--) {
        if (++idx[d] < nd.shape[d]) break;
        idx[d] = 0;
      }
    }
    return Tensor.from(options.dtype === 'i32' ? Int32Array.from(out) : out, nd.shape, options);
  }

  /**
   * Raw blocks of a GGML type (as stored in GGUF) as a tensor that stays quantized on the device.
   * `shape` is row-major: [rows, rowLength], i.e. the GGUF ne reversed.
   */
  static fromBlocks(bytes: Uint8Array, type: string, shape: Shape, options: { backend?: Backend } = {}): Tensor {
    const t = blockType(type);
    const n = numel(shape);
    Tensor.checkBlocks(bytes.length, type, shape);
    const backend = options.backend ?? defaultBackend();
    const node = new Node({ op: 'source' }, [], shape, t.name, backend);
    node.buffer = backend.upload(bytes, t.name, n);
    return Tensor.fromNode(node);
  }

  /** `byteLength` bytes of `type` blocks make whole rows of `shape`, or a TensorError says why not. */
  private static checkBlocks(byteLength: number, type: string, shape: Shape): void {
    const t = blockType(type);
    const n = numel(shape);
    const rowLength = shape[shape.length - 1];
    if (rowLength % t.blockSize !== 0) {
      throw new TensorError(`${t.name} rows must be whole ${t.blockSize}-value blocks; shape ${shapeString(shape)} has rows of ${rowLength}`);
    }
    if (byteLength !== (n / t.blockSize) * t.typeSize) {
      throw new TensorError(`${byteLength} bytes are not ${shapeString(shape)} of ${t.name} (${(n / t.blockSize) * t.typeSize} bytes)`);
    }
  }

  /**
   * A GGUF tensor as stored: F32 becomes f32; any other type stays in its blocks on the device
   * (its GGUF byte size, no f32 copy). Shape is row-major: the GGUF ne reversed.
   */
  static fromGGUF(file: GGUFFile, name: string, options: { backend?: Backend } = {}): Tensor {
    const info = file.tensor(name);
    const shape = [...info.shape].reverse();
    const backend = options.backend ?? defaultBackend();
    if (backend.uploadWith) {
      // Read straight into device memory: no transient copy of every tensor (loading a model
      // this way peaks at its size, not its size plus whatever copies the GC has yet to take).
      const dtype = info.type.name === 'F32' ? 'f32' : blockType(info.type.name).name;
      if (dtype !== 'f32') Tensor.checkBlocks(info.nBytes, dtype, shape);
      const node = new Node({ op: 'source' }, [], shape, dtype, backend);
      node.buffer = backend.uploadWith(dtype, info.nElements, info.nBytes, (target) => file.readTensorInto(info, target), file.tensorFileRange(info) ?? undefined);
      return Tensor.fromNode(node);
    }
    if (info.type.name === 'F32') {
      const bytes = file.readTensorBytes(info);
      return Tensor.from(new Float32Array(bytes.buffer, bytes.byteOffset, info.nElements), shape, options);
    }
    return Tensor.fromBlocks(file.readTensorBytes(info), info.type.name, shape, options);
  }

  static scalar(value: number, options: { backend?: Backend } = {}): Tensor {
    const backend = options.backend ?? defaultBackend();
    const node = new Node({ op: 'source' }, [], [], 'f32', backend, value);
    node.buffer = backend.upload(Float32Array.of(value), 'f32', 1);
    return Tensor.fromNode(node);
  }

  static zeros(shape: Shape, options: { backend?: Backend } = {}): Tensor {
    return Tensor.from(new Float32Array(numel(shape)), shape, options);
  }

  // ---------------------------------------------------------------------------------------------
  // Views (no copies)

  private move(m: Movement, shape: Shape): Tensor {
    const moves = [...this.moves, m];
    if (replay(View.contiguous(this.node.shape), moves)) return new Tensor(this.node, moves, shape);
    // Not one affine map any more (a reshape of a permuted view): copy first, then move.
    return this.contiguous().move(m, shape);
  }

  /** Same elements, new shape; one dimension may be -1. */
  reshape(...shape: number[]): Tensor {
    const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const resolved = shape.map((d) => (d === -1 ? this.size / known : d));
    if (shape.filter((d) => d === -1).length > 1 || numel(resolved) !== this.size || !resolved.every(Number.isInteger)) {
      throw new TensorError(`cannot reshape ${shapeString(this.shape)} (${this.size} elements) to ${shapeString(shape)}`);
    }
    if (!isComputeDType(this.dtype) && resolved[resolved.length - 1] !== this.shape[this.rank - 1]) {
      throw new TensorError(`a ${this.dtype} tensor keeps its rows whole: cannot reshape ${shapeString(this.shape)} to ${shapeString(resolved)}`);
    }
    return this.move({ kind: 'reshape', shape: resolved }, resolved);
  }

  permute(...order: number[]): Tensor {
    const axes = order.map((a) => this.axis(a));
    if (axes.length !== this.rank || new Set(axes).size !== this.rank) {
      throw new TensorError(`permute(${order.join(', ')}) is not a permutation of the ${this.rank} axes of ${shapeString(this.shape)}`);
    }
    return this.move({ kind: 'permute', order: axes }, axes.map((a) => this.shape[a]));
  }

  transpose(a = -2, b = -1): Tensor {
    const order = this.shape.map((_, i) => i);
    const [x, y] = [this.axis(a), this.axis(b)];
    [order[x], order[y]] = [order[y], order[x]];
    return this.permute(...order);
  }

  get T(): Tensor {
    return this.transpose();
  }

  /**
   * This tensor with `source`'s elements (row-major) written over its own from element `offset` on,
   * **in place**: realizing the result changes this tensor's buffer, which the result shares.
   * For buffers that outlive a pass (a preallocated KV cache): no allocation, no copy of the rest.
   * This tensor must be a whole buffer (not a view); earlier writes to it must be realized first or
   * be this tensor (chain them: `t.write(a, 0).write(b, n)`).
   */
  write(source: Tensor, offset: number): Tensor {
    if (this.moves.length > 0) throw new TensorError(`write: the target must be a whole tensor, not a view (${shapeString(this.shape)} seen through ${this.moves.map((m) => m.kind).join(', ')})`);
    if (source.dtype !== this.dtype) throw new TensorError(`write: cannot write ${source.dtype} values into a ${this.dtype} tensor`);
    if (!Number.isInteger(offset) || offset < 0 || offset + source.size > this.size) {
      throw new TensorError(`write: ${source.size} values of ${shapeString(source.shape)} at offset ${offset} do not fit in ${shapeString(this.shape)} (${this.size} values)`);
    }
    return Tensor.op({ op: 'write', offset }, [this, source], this.shape, this.dtype);
  }

  /**
   * This tensor with row i of `rows` written over its row `indices[i]`, **in place** (as `write`):
   * where the rows go is device data, so one graph serves every position (a KV cache written at
   * the current positions). Rows are along the first axis; an index outside this tensor is an
   * error on the CPU and leaves the row unwritten on WebGPU (a kernel cannot throw).
   */
  writeRows(rows: Tensor, indices: Tensor): Tensor {
    if (this.moves.length > 0) throw new TensorError(`writeRows: the target must be a whole tensor, not a view (${shapeString(this.shape)} seen through ${this.moves.map((m) => m.kind).join(', ')})`);
    if (rows.dtype !== this.dtype) throw new TensorError(`writeRows: cannot write ${rows.dtype} rows into a ${this.dtype} tensor`);
    if (this.dtype !== 'f32' && this.dtype !== 'i32') throw new TensorError(`writeRows: the target must be f32 or i32, not ${this.dtype}`);
    if (rows.rank !== this.rank || rows.shape.slice(1).join() !== this.shape.slice(1).join()) {
      throw new TensorError(`writeRows: rows of ${shapeString(rows.shape)} do not match the rows of ${shapeString(this.shape)}`);
    }
    if (indices.dtype !== 'i32' || indices.rank !== 1 || indices.shape[0] !== rows.shape[0]) {
      throw new TensorError(`writeRows: the indices must be ${rows.shape[0]} i32 values (one per row), not ${shapeString(indices.shape)} ${indices.dtype}`);
    }
    return Tensor.op({ op: 'writeRows' }, [this, rows, indices], this.shape, this.dtype);
  }

  /** Elements [start, end) along `axis`. */
  slice(axis: number, start: number, end: number): Tensor {
    const ax = this.axis(axis);
    if (!(0 <= start && start <= end && end <= this.shape[ax])) {
      throw new TensorError(`slice ${start}:${end} is outside axis ${ax} of ${shapeString(this.shape)}`);
    }
    const shape = this.shape.map((d, i) => (i === ax ? end - start : d));
    return this.move({ kind: 'slice', axis: ax, start, end }, shape);
  }

  /** Broadcast to `shape` (size-1 dimensions repeat; new leading dimensions may be added). */
  expand(...shape: number[]): Tensor {
    if (!sameShape(broadcastShapes(this.shape, shape) ?? [], shape)) {
      throw new TensorError(`cannot expand ${shapeString(this.shape)} to ${shapeString(shape)}`);
    }
    if (sameShape(this.shape, shape)) return this;
    return this.move({ kind: 'expand', shape }, shape);
  }

  /** A contiguous copy (materializes views). */
  contiguous(): Tensor {
    return this.unary('copy');
  }

  static concat(tensors: Tensor[], axis: number): Tensor {
    const first = tensors[0];
    const ax = first.axis(axis);
    for (const t of tensors) {
      if (t.rank !== first.rank || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
        throw new TensorError(`concat along axis ${ax}: shapes ${tensors.map((x) => shapeString(x.shape)).join(', ')} differ off that axis`);
      }
    }
    const shape = first.shape.map((d, i) => (i === ax ? tensors.reduce((n, t) => n + t.shape[ax], 0) : d));
    return Tensor.op({ op: 'concat', axis: ax }, tensors, shape, first.dtype);
  }

  // ---------------------------------------------------------------------------------------------
  // Elementwise (chains fuse into one kernel)

  private unary(op: UnaryOp): Tensor {
    this.requireCompute(op);
    return Tensor.op({ op }, [this], this.shape, elementwiseDType(op, this.dtype));
  }

  private binary(op: BinaryOp, other: Tensor | number): Tensor {
    const b = typeof other === 'number' ? Tensor.scalar(other, { backend: this.backend }) : other;
    this.requireCompute(op);
    b.requireCompute(op);
    const shape = broadcastShapes(this.shape, b.shape);
    if (!shape) throw new TensorError(`${op}: shapes ${shapeString(this.shape)} and ${shapeString(b.shape)} do not broadcast`);
    if (this.dtype !== b.dtype) throw new TensorError(`${op}: dtypes ${this.dtype} and ${b.dtype} differ; cast one first`);
    return Tensor.op({ op }, [this, b], shape, elementwiseDType(op, this.dtype));
  }

  neg(): Tensor {
    return this.unary('neg');
  }
  exp(): Tensor {
    return this.unary('exp');
  }
  log(): Tensor {
    return this.unary('log');
  }
  sqrt(): Tensor {
    return this.unary('sqrt');
  }
  rsqrt(): Tensor {
    return this.unary('rsqrt');
  }
  recip(): Tensor {
    return this.unary('recip');
  }
  abs(): Tensor {
    return this.unary('abs');
  }
  silu(): Tensor {
    return this.unary('silu');
  }
  /** GELU, tanh approximation (as ggml). */
  gelu(): Tensor {
    return this.unary('gelu');
  }
  tanh(): Tensor {
    return this.unary('tanh');
  }
  /** Round each value to the nearest f16 (ties to even), kept as f32. */
  roundF16(): Tensor {
    return this.unary('roundF16');
  }
  add(b: Tensor | number): Tensor {
    return this.binary('add', b);
  }
  sub(b: Tensor | number): Tensor {
    return this.binary('sub', b);
  }
  mul(b: Tensor | number): Tensor {
    return this.binary('mul', b);
  }
  div(b: Tensor | number): Tensor {
    return this.binary('div', b);
  }
  pow(b: Tensor | number): Tensor {
    return this.binary('pow', b);
  }
  maximum(b: Tensor | number): Tensor {
    return this.binary('maximum', b);
  }
  minimum(b: Tensor | number): Tensor {
    return this.binary('minimum', b);
  }
  lt(b: Tensor | number): Tensor {
    return this.binary('lt', b);
  }
  le(b: Tensor | number): Tensor {
    return this.binary('le', b);
  }
  gt(b: Tensor | number): Tensor {
    return this.binary('gt', b);
  }
  ge(b: Tensor | number): Tensor {
    return this.binary('ge', b);
  }
  eq(b: Tensor | number): Tensor {
    return this.binary('eq', b);
  }
  ne(b: Tensor | number): Tensor {
    return this.binary('ne', b);
  }

  /** Elementwise `this ? a : b` (nonzero is true), broadcasting all three. */
  where(a: Tensor | number, b: Tensor | number): Tensor {
    const x = typeof a === 'number' ? Tensor.scalar(a, { backend: this.backend }) : a;
    const y = typeof b === 'number' ? Tensor.scalar(b, { backend: this.backend }) : b;
    const shape = broadcastShapes(broadcastShapes(this.shape, x.shape) ?? [-1], y.shape);
    if (!shape || shape.includes(-1)) {
      throw new TensorError(`where: shapes ${shapeString(this.shape)}, ${shapeString(x.shape)}, ${shapeString(y.shape)} do not broadcast`);
    }
    if (x.dtype !== y.dtype) throw new TensorError(`where: branch dtypes ${x.dtype} and ${y.dtype} differ`);
    return Tensor.op({ op: 'where' }, [this, x, y], shape, x.dtype);
  }

  /** Convert: f32 <-> i32, or a block type (Q4_K, F16, ...) dequantized to f32. */
  cast(dtype: 'f32' | 'i32'): Tensor {
    if (dtype === this.dtype) return this;
    if (!isComputeDType(this.dtype)) {
      if (dtype !== 'f32') throw new TensorError(`cast: ${this.dtype} dequantizes to f32 only`);
      // Dequantization = getRows of every row: block decoding stays inside one kernel.
      const rows = this.size / this.shape[this.rank - 1];
      const flat = this.rank === 2 ? this : this.reshape(rows, this.shape[this.rank - 1]);
      const all = Tensor.from(Int32Array.from({ length: rows }, (_, i) => i), [rows], { dtype: 'i32', backend: this.backend });
      return Tensor.getRows(flat, all).reshape(...this.shape);
    }
    return this.unary(dtype === 'f32' ? 'castF32' : 'castI32');
  }

  // ---------------------------------------------------------------------------------------------
  // Reductions

  private reduce(op: ReduceOp, axis: number, keepDim: boolean): Tensor {
    this.requireCompute(op);
    const ax = this.axis(axis);
    return Tensor.op({ op, axis: ax, keepDim }, [this], reduceShape(this.shape, ax, keepDim), op === 'argmax' ? 'i32' : this.dtype);
  }

  sum(axis = -1, keepDim = false): Tensor {
    return this.reduce('sum', axis, keepDim);
  }
  max(axis = -1, keepDim = false): Tensor {
    return this.reduce('max', axis, keepDim);
  }
  min(axis = -1, keepDim = false): Tensor {
    return this.reduce('min', axis, keepDim);
  }
  argmax(axis = -1, keepDim = false): Tensor {
    return this.reduce('argmax', axis, keepDim);
  }
  mean(axis = -1, keepDim = false): Tensor {
    return this.sum(axis, keepDim).div(this.shape[this.axis(axis)]);
  }
  /** Population variance (divide by n). */
  variance(axis = -1, keepDim = false): Tensor {
    const centered = this.sub(this.mean(axis, true));
    return centered.mul(centered).mean(axis, keepDim);
  }

  // ---------------------------------------------------------------------------------------------
  // Special ops

  /** Batched matrix product: [..., m, k] x [..., k, n] -> [..., m, n] (batch dims broadcast). f32 only. */
  matmul(other: Tensor, options: MatmulArgs = {}): Tensor {
    if (!isComputeDType(other.dtype) && other.moves.length === 1 && other.moves[0].kind === 'permute' && other.rank === 2) {
      // x @ W.T with W quantized: the linear op reads W's blocks directly.
      return this.linear(Tensor.fromNode(other.node));
    }
    this.requireCompute('matmul');
    other.requireCompute('matmul');
    if (this.rank < 2 || other.rank < 2 || this.shape[this.rank - 1] !== other.shape[other.rank - 2]) {
      throw new TensorError(`matmul: ${shapeString(this.shape)} x ${shapeString(other.shape)}: inner dimensions must agree ([..., m, k] x [..., k, n])`);
    }
    const batch = broadcastShapes(this.shape.slice(0, -2), other.shape.slice(0, -2));
    if (!batch) throw new TensorError(`matmul: batch dimensions of ${shapeString(this.shape)} and ${shapeString(other.shape)} do not broadcast`);
    return Tensor.op({ op: 'matmul', ggml: options.ggml ?? null }, [this, other], [...batch, this.shape[this.rank - 2], other.shape[other.rank - 1]], 'f32');
  }

  /**
   * `this @ weight.T` for a weight of shape [out, in] in any dtype (quantized weights are read in
   * their blocks, never expanded): [..., in] -> [..., out].
   */
  linear(weight: Tensor, options: Partial<LinearArgs> = {}): Tensor {
    this.requireCompute('linear');
    if (weight.rank !== 2 || weight.shape[1] !== this.shape[this.rank - 1]) {
      throw new TensorError(`linear: input ${shapeString(this.shape)} does not fit weight ${shapeString(weight.shape)} ([out, in] with in = ${this.shape[this.rank - 1]})`);
    }
    if (!isComputeDType(weight.dtype) && weight.moves.length > 0) throw new TensorError(`linear: a ${weight.dtype} weight must be used as stored (no views)`);
    return Tensor.op({ op: 'linear', activationType: options.activationType ?? null }, [this, weight], [...this.shape.slice(0, -1), weight.shape[0]], 'f32');
  }

  /** x / sqrt(mean(x^2 over the last axis) + eps) — RMSNorm without its weight (as ggml_rms_norm). */
  rmsNorm(eps: number): Tensor {
    this.requireCompute('rmsNorm');
    return Tensor.op({ op: 'rmsNorm', eps }, [this], this.shape, 'f32');
  }

  /**
   * Rotary position embedding over the last axis of [..., tokens, heads, headDim], with one
   * position per token (`positions`: i32 [tokens]).
   */
  rope(positions: Tensor, args: Partial<RopeArgs> & { dims?: number } = {}): Tensor {
    this.requireCompute('rope');
    const headDim = this.shape[this.rank - 1];
    const full: RopeArgs = { mode: args.mode ?? 'norm', dims: args.dims ?? headDim, freqBase: args.freqBase ?? 10000, freqScale: args.freqScale ?? 1 };
    if (this.rank < 3 || positions.rank !== 1 || positions.shape[0] !== this.shape[this.rank - 3] || positions.dtype !== 'i32') {
      throw new TensorError(`rope: input ${shapeString(this.shape)} must be [..., tokens, heads, headDim] with i32 positions [tokens]; got positions ${shapeString(positions.shape)} ${positions.dtype}`);
    }
    if (full.dims > headDim || full.dims % 2 !== 0) throw new TensorError(`rope: dims ${full.dims} must be even and at most the head size ${headDim}`);
    return Tensor.op({ op: 'rope', ...full }, [this, positions], this.shape, 'f32');
  }

  /** Softmax over the last axis of scale * x, optionally causally masked (see SoftmaxArgs). */
  softmax(options: { scale?: number; causalOffset?: number | null; ggml?: boolean } = {}): Tensor {
    this.requireCompute('softmax');
    return Tensor.op({ op: 'softmax', scale: options.scale ?? 1, causalOffset: options.causalOffset ?? null, ggml: options.ggml ?? false }, [this], this.shape, 'f32');
  }

  /** Rows `ids` (i32 [n]) of a [rows, width] table of any dtype, as f32 [n, width]: embedding lookup. */
  static getRows(table: Tensor, ids: Tensor): Tensor {
    if (table.rank !== 2 || ids.rank !== 1 || ids.dtype !== 'i32') {
      throw new TensorError(`getRows: table ${shapeString(table.shape)} must be 2-D and ids ${shapeString(ids.shape)} 1-D i32 (got ${ids.dtype})`);
    }
    return Tensor.op({ op: 'getRows' }, [table, ids], [ids.shape[0], table.shape[1]], 'f32');
  }

  // ---------------------------------------------------------------------------------------------
  // Results

  /** Compute (if needed) and return the values in row-major order. */
  async data(): Promise<TensorData> {
    await realize(this);
    return this.backend.read(this.node.buffer!, this.view);
  }

  async toNdarray(): Promise<ndarray.NdArray<TensorData>> {
    return ndarray(await this.data(), [...this.shape]);
  }

  /**
   * The values as an Apache Arrow table, which a notebook shows as a table and pandas, polars or
   * DuckDB read (`tableToIPC(table, 'file')`, or `writeArrow(path, table)`):
   * - rank 0 or 1: one column `value`, a row per element;
   * - rank 2 and up: a row per index of the leading axes, given in Int32 columns `dim0`, `dim1`, …,
   *   and the last axis as one FixedSizeList column `values` (a [tokens, hidden] activation has a
   *   row per token holding its hidden vector).
   * Values are Float32, or Int32 for an i32 tensor; a quantized tensor is dequantized to f32 first.
   * The schema's metadata keeps `shape` (JSON) and `dtype`, the tensor's own.
   */
  async toArrow(): Promise<Table> {
    const source = isComputeDType(this.dtype) ? this : this.cast('f32');
    let values: TensorData;
    try {
      values = await source.data();
    } finally {
      // The dequantized copy was made for this table only.
      if (source !== this) source.dispose();
    }
    const table = new Table(arrowColumns(values, this.shape));
    const metadata = new Map([['shape', JSON.stringify(this.shape)], ['dtype', this.dtype]]);
    return new Table(new Schema(table.schema.fields, metadata), table.batches);
  }

  /**
   * Replace the values of this tensor made by `Tensor.from`, in place (as many values): the way
   * new inputs reach a recorded Plan. Lazy tensors computed from it before are not recomputed.
   */
  overwrite(data: ArrayLike<number>): void {
    if (this.node.args.op !== 'source' || this.moves.length > 0 || !this.node.buffer || (this.dtype !== 'f32' && this.dtype !== 'i32')) {
      throw new TensorError(`overwrite: only a whole f32/i32 tensor made from values (Tensor.from) can be overwritten, not ${this.toString()}`);
    }
    if (data.length !== this.size) throw new TensorError(`overwrite: ${data.length} values for a tensor of ${shapeString(this.shape)} (${this.size} elements)`);
    const typed = this.dtype === 'i32' ? (data instanceof Int32Array ? data : Int32Array.from(data)) : data instanceof Float32Array ? data : Float32Array.from(data);
    this.backend.overwrite(this.node.buffer, typed);
  }

  /** Free this tensor's device buffer (it is recomputed from its inputs if asked for again). */
  dispose(): void {
    if (this.node.buffer && this.node.args.op !== 'source' && !this.node.borrowsBuffer) {
      this.backend.free(this.node.buffer);
      this.node.buffer = null;
    }
  }

  toString(): string {
    return `Tensor(${shapeString(this.shape)}, ${this.dtype}, ${this.backend.name}${this.node.buffer ? '' : ', lazy'})`;
  }

  // ---------------------------------------------------------------------------------------------

  static op(args: OpArgs, srcs: Tensor[], shape: Shape, dtype: DType): Tensor {
    const backend = srcs[0].backend;
    for (const s of srcs) {
      if (s.backend !== backend) {
        throw new TensorError(`${args.op}: inputs live on different backends (${srcs.map((x) => x.backend.description).join(' and ')}); move one first`);
      }
    }
    return Tensor.fromNode(new Node(args, srcs, shape, dtype, backend));
  }

  /** Normalize a possibly negative axis. */
  axis(a: number): number {
    const ax = a < 0 ? a + this.rank : a;
    if (!(0 <= ax && ax < this.rank)) throw new TensorError(`axis ${a} is out of range for ${shapeString(this.shape)}`);
    return ax;
  }

  private requireCompute(op: string): void {
    if (!isComputeDType(this.dtype)) {
      throw new TensorError(`${op} needs f32 or i32 inputs; this tensor is ${this.dtype} ${shapeString(this.shape)}: use it in linear/getRows, or cast('f32') first`);
    }
  }
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** toArrow's columns: `value`, or `dim0`, … and `values` rows of the last axis (row-major `values`). */
function arrowColumns(values: TensorData, shape: Shape): Record<string, Vector> {
  if (shape.length <= 1) return { value: makeVector(values) };
  const leading = shape.slice(0, -1);
  const width = shape[shape.length - 1];
  const rows = numel(leading);
  const columns: Record<string, Vector> = {};
  let stride = rows;
  leading.forEach((size, axis) => {
    stride /= size;
    columns[`dim${axis}`] = makeVector(Int32Array.from({ length: rows }, (_, row) => Math.floor(row / stride) % size));
  });
  const child = makeVector(values).data[0];
  columns.values = makeVector(makeData({ type: new FixedSizeList(width, new Field('item', child.type)), length: rows, nullCount: 0, child }));
  return columns;
}

export type { ElementwiseOp };
