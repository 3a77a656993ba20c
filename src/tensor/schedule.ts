// Realizing tensors: walk the graph from the requested tensors, fuse each chain of elementwise ops
// (and the views between them) into one kernel, run every other op as its own kernel, and free
// each intermediate buffer as soon as its last consumer has run. Requested tensors keep theirs.
// A recording realization (plan.ts) instead keeps every buffer and lists what it ran, to run again.

import type { DeviceBuffer, Expr, Kernel } from './backend';
import { opKind, type OpArgs } from './ops';
import { DeviceMemoryError, TensorError } from './errors';
import { replay, shapeString, View, type Movement } from './view';
import type { Node, Tensor } from './tensor';

/** One thing a realization did to a backend, as a recording keeps it (its buffers stay allocated). */
export type PlanStep =
  | { kind: 'run'; kernel: Kernel; out: DeviceBuffer }
  | { kind: 'write'; into: DeviceBuffer; offset: number; from: DeviceBuffer; view: View }
  | { kind: 'writeRows'; into: DeviceBuffer; from: DeviceBuffer; view: View; indices: DeviceBuffer; indicesView: View };

/** What a recording realization collects: its steps in order, and the intermediate buffers they write. */
export interface Recording {
  steps: PlanStep[];
  intermediates: DeviceBuffer[];
}

interface Realization {
  targets: Set<Node>;
  /** Edges from unrealized consumers, per node: how many kernels still need its buffer. */
  pending: Map<Node, number>;
  producedHere: Set<Node>;
  /** Set when recording: nothing is freed, and every step is listed. */
  recording: Recording | null;
}

/** Compute every given tensor (sharing common work); afterwards each holds its buffer. */
export async function realize(...tensors: Tensor[]): Promise<void> {
  realizeNow(tensors, null);
}

/**
 * Realize as `realize` does, but keep every intermediate buffer and list each kernel and write in
 * `recording`, so that running the steps again recomputes the targets from new contents of the
 * same source buffers.
 */
export function realizeRecording(tensors: readonly Tensor[], recording: Recording): void {
  realizeNow(tensors, recording);
}

function realizeNow(tensors: readonly Tensor[], recording: Recording | null): void {
  const r: Realization = { targets: new Set(tensors.map((t) => t.node)), pending: new Map(), producedHere: new Set(), recording };
  const seen = new Set<Node>();
  const stack = tensors.map((t) => t.node).filter((n) => !n.buffer);
  while (stack.length) {
    const node = stack.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    for (const s of node.srcs) {
      r.pending.set(s.node, (r.pending.get(s.node) ?? 0) + 1);
      if (!s.node.buffer) stack.push(s.node);
    }
  }
  try {
    for (const t of tensors) ensure(t.node, r);
  } finally {
    // also when a kernel failed: the recording's owner frees what was made
    if (recording) for (const n of r.producedHere) if (!r.targets.has(n) && !n.borrowsBuffer && n.buffer) recording.intermediates.push(n.buffer);
  }
}

function ensure(node: Node, r: Realization): DeviceBuffer {
  if (node.buffer) return node.buffer;
  const consumed: Node[] = [];
  let buffer: DeviceBuffer;
  try {
    const steps = r.recording?.steps;
    if (node.args.op === 'write' || node.args.op === 'writeRows') {
      // In place: the result is the target's buffer, owned by the target's node, never freed here.
      const [target, source, indices] = node.srcs;
      const into = ensure(target.node, r);
      const from = ensure(source.node, r);
      consumed.push(source.node);
      if (node.args.op === 'write') {
        node.backend.writeInto(into, node.args.offset, from, source.view);
        steps?.push({ kind: 'write', into, offset: node.args.offset, from, view: source.view });
      } else {
        const at = ensure(indices.node, r);
        consumed.push(indices.node);
        node.backend.writeRowsInto(into, from, source.view, at, indices.view);
        steps?.push({ kind: 'writeRows', into, from, view: source.view, indices: at, indicesView: indices.view });
      }
      node.borrowsBuffer = true;
      buffer = into;
    } else {
      let kernel: Kernel;
      if (opKind(node.args.op) === 'elementwise') {
        const inputs: Node[] = [];
        const expr = inlineNode(node, [], r, inputs, consumed)!;
        kernel = { kind: 'elementwise', expr, inputs: inputs.map((n) => n.buffer!), shape: node.shape, dtype: node.dtype as 'f32' | 'i32' };
      } else {
        const inputs = node.srcs.map((s) => {
          consumed.push(s.node);
          return { buffer: ensure(s.node, r), view: s.view };
        });
        kernel = { kind: 'op', args: node.args, inputs, shape: node.shape, dtype: node.dtype };
      }
      buffer = node.backend.run(kernel);
      steps?.push({ kind: 'run', kernel, out: buffer });
    }
  } catch (e) {
    throw realizeError(node, e);
  }
  node.buffer = buffer;
  r.producedHere.add(node);
  for (const c of consumed) release(c, r);
  return buffer;
}

/** An intermediate made in this realization is freed once nothing still needs it. */
function release(node: Node, r: Realization): void {
  const left = (r.pending.get(node) ?? 1) - 1;
  r.pending.set(node, left);
  if (left === 0 && !r.recording && r.producedHere.has(node) && !r.targets.has(node) && node.buffer && !node.borrowsBuffer) {
    node.backend.free(node.buffer);
    node.buffer = null;
  }
}

/** Inlinable into its consumer's kernel: an elementwise op nobody else needs. */
function fusable(node: Node, r: Realization): boolean {
  return !node.buffer && opKind(node.args.op) === 'elementwise' && !r.targets.has(node) && r.pending.get(node) === 1;
}

/**
 * The expression computing `node`'s elements, seen through `outer` movements applied after it.
 * Returns null if some load cannot express those movements (then the caller realizes `node`).
 */
function inlineNode(node: Node, outer: readonly Movement[], r: Realization, inputs: Node[], consumed: Node[]): Expr | null {
  const args: Expr[] = [];
  const localInputs = [...inputs];
  const localConsumed: Node[] = [];
  for (const s of node.srcs) {
    const moves = [...s.moves, ...(sameShape(s.shape, node.shape) ? [] : [{ kind: 'expand', shape: node.shape } as Movement]), ...outer];
    const e = sourceExpr(s.node, moves, r, localInputs, localConsumed);
    if (!e) return null;
    args.push(e);
  }
  inputs.splice(0, inputs.length, ...localInputs);
  consumed.push(...localConsumed);
  return { kind: 'op', op: node.args.op as Extract<OpArgs['op'], string> as never, args };
}

function sourceExpr(child: Node, moves: readonly Movement[], r: Realization, inputs: Node[], consumed: Node[]): Expr | null {
  if (child.constValue !== undefined) {
    consumed.push(child);
    return { kind: 'const', value: child.constValue };
  }
  if (fusable(child, r)) {
    const inlined = inlineNode(child, moves, r, inputs, consumed);
    if (inlined) return inlined;
  }
  const view = replay(View.contiguous(child.shape), moves);
  if (!view) return null;
  ensure(child, r);
  let index = inputs.indexOf(child);
  if (index < 0) index = inputs.push(child) - 1;
  consumed.push(child);
  return { kind: 'load', input: index, view, dtype: child.dtype as 'f32' | 'i32' };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function realizeError(node: Node, cause: unknown): Error {
  if (cause instanceof TensorError && cause.message.startsWith('realizing ')) return cause;
  const inputs = node.srcs.map((s) => `${shapeString(s.shape)} ${s.dtype}`).join(', ');
  const where =
    typeof node.origin === 'string' ? `in ${node.origin}` : (node.origin?.stack?.split('\n').slice(1).find((l) => !l.includes('/src/tensor/')) ?? '  (unknown place)');
  // The device is named once, here; a memory error's own message starts with it too.
  const message = cause instanceof DeviceMemoryError ? cause.problem : cause instanceof Error ? cause.message : String(cause);
  const e = new TensorError(`realizing ${node.args.op}(${inputs}) -> ${shapeString(node.shape)} ${node.dtype} on ${node.backend.description} failed: ${message}\n  op created ${where.trim()}`);
  (e as Error & { cause?: unknown }).cause = cause;
  return e;
}
