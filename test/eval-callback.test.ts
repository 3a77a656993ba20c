import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compareDump, compareNode, flatIndex, parseEvalCallback, readEvalCallback, type EvalCallbackNode, type NodeIndex } from '../src/inspect/eval-callback';
import { openGGUF } from '../src/gguf';
import { REFERENCES_DIR, modelPath } from './helpers/references';

const DUMPS = ['f32', 'q8_0', 'q4_k_m'];
const dumpPath = (suffix: string) => path.join(REFERENCES_DIR, `eval-callback-${suffix}.txt`);
const FIXTURE = path.join(__dirname, 'fixtures/eval-callback/common-debug.txt');

/** llama.cpp prints indices 0..2 and ne-3..ne-1 along a dimension longer than 6, else all of them. */
function printedIndices(ne: number): number[] {
  const all = Array.from({ length: ne }, (_, i) => i);
  return ne > 6 ? [...all.slice(0, 3), ...all.slice(ne - 3)] : all;
}

function expectedIndexTuples([ne0, ne1, ne2, ne3]: NodeIndex): NodeIndex[] {
  const out: NodeIndex[] = [];
  for (let i3 = 0; i3 < ne3; i3++) {
    for (const i2 of printedIndices(ne2)) for (const i1 of printedIndices(ne1)) for (const i0 of printedIndices(ne0)) out.push([i0, i1, i2, i3]);
  }
  return out;
}

/** A full array holding the dump's printed values at their positions, zero elsewhere. */
function fromPrinted(node: EvalCallbackNode): Float32Array {
  const a = new Float32Array(node.shape.reduce((x, y) => x * y, 1));
  for (const p of node.printed) a[flatIndex(p.index, node.shape)] = p.value;
  return a;
}

describe("eval-callback parser on llama.cpp's dumps (references/, older format)", () => {
  for (const suffix of DUMPS) {
    it(`${suffix}: one node per header and sum line, printed indices by llama.cpp's rule, sums of the printed values`, () => {
      const text = fs.readFileSync(dumpPath(suffix), 'utf8');
      const dump = parseEvalCallback(text);
      const headers = text.split('\n').filter((l) => l.startsWith('ggml_debug:')).length;
      const sumLines = text.split('\n').filter((l) => /^\s+sum = /.test(l)).length;
      assert.equal(dump.nodes.length, headers);
      assert.equal(dump.nodes.length, sumLines);
      assert.deepEqual(dump.warnings, []);
      assert.equal(dump.layout, 'column-37');
      assert.equal(dump.sumCovers, 'printed-values', dump.sumEvidence);
      for (const node of dump.nodes) {
        assert.deepEqual(node.printed.map((p) => p.index), expectedIndexTuples(node.shape), `${node.name} (line ${node.line})`);
        // The README: in this version `sum` adds only the printed values. Each printed value is rounded to
        // 4 decimals (at most 0.00005 off); the float32 sum itself may be off by (n-1)·2^-24·Σ|v|.
        const values = node.printed.map((p) => p.value);
        const sum = values.reduce((a, b) => a + b, 0);
        const magnitude = values.reduce((a, b) => a + Math.abs(b), 0);
        const rounding = values.length * 0.00005 + values.length * 2 ** -24 * magnitude + 5e-7;
        assert.equal(node.sums.length, 1);
        assert.ok(Math.abs(node.sums[0] - sum) <= rounding, `${node.name} (line ${node.line}): sum ${node.sums[0]}, printed values add up to ${sum}`);
      }
    });
  }

  it('reads headers: name, type, op, sources with their shapes, output shape innermost first', () => {
    const dump = readEvalCallback(dumpPath('q8_0'));
    const [embd, norm] = dump.nodes;
    assert.deepEqual(
      { name: embd.name, type: embd.type, op: embd.op, sources: embd.sources, shape: embd.shape },
      {
        name: 'inp_embd',
        type: 'f32',
        op: 'GET_ROWS',
        sources: [
          { name: 'token_embd.weight', shape: [256, 2048, 1, 1] },
          { name: 'inp_tokens', shape: [7, 1, 1, 1] },
        ],
        shape: [256, 7, 1, 1],
      },
    );
    assert.deepEqual(norm.sources, [{ name: 'inp_embd', shape: [256, 7, 1, 1] }]);
    const copy = dump.nodes.find((n) => n.name === 'v_cache_view-0 (copy of Vcur-0 (transposed))')!;
    assert.equal(copy.type, 'f16');
    assert.equal(copy.op, 'CPY');
    assert.deepEqual(copy.sources.map((s) => s.name), ['Vcur-0 (transposed)', 'v_cache_view-0']);
    assert.deepEqual(dump.nodes.filter((n) => n.name === 'Qcur-0').map((n) => n.op), ['MUL_MAT', 'ROPE']);
  });

  it("inp_embd holds the F32 file's token_embd rows of the prompt tokens (greedy.json), result_output the logits (logits-f32.json)", () => {
    const dump = readEvalCallback(dumpPath('f32'));
    const greedy = JSON.parse(fs.readFileSync(path.join(REFERENCES_DIR, 'greedy.json'), 'utf8'));
    const tokens: number[] = greedy.results['manllama-6m-f32.gguf']['Once upon a time'].prompt_tokens;
    const file = openGGUF(modelPath('f32'));
    try {
      const embd = dump.nodes.find((n) => n.name === 'inp_embd')!;
      for (const { index: [i0, i1], value } of embd.printed) {
        const row = file.readRows('token_embd.weight', tokens[i1], tokens[i1] + 1);
        assert.equal(value, Number(row[i0].toFixed(4)), `inp_embd[${i0}, ${i1}]`);
      }
    } finally {
      file.close();
    }
    const logits: number[] = JSON.parse(fs.readFileSync(path.join(REFERENCES_DIR, 'logits-f32.json'), 'utf8')).logits;
    const out = dump.nodes.find((n) => n.name === 'result_output')!;
    for (const { index: [i0], value } of out.printed) assert.equal(value, Number(logits[i0].toFixed(4)), `result_output[${i0}]`);
  });

  it('indices agree across views llama.cpp printed through strides: reshape, transpose, permute', () => {
    const dump = readEvalCallback(dumpPath('f32'));
    const byName = (name: string, op: string) => dump.nodes.find((n) => n.name === name && n.op === op)!;
    const lookup = (node: EvalCallbackNode) => new Map(node.printed.map((p) => [p.index.join(','), p.value]));
    let checked = 0;
    const expectSame = (view: EvalCallbackNode, source: EvalCallbackNode, sourceIndex: (i: NodeIndex) => NodeIndex) => {
      const values = lookup(source);
      for (const p of view.printed) {
        const v = values.get(sourceIndex(p.index).join(','));
        if (v === undefined) continue; // printed in the view only
        assert.equal(p.value, v, `${view.name}[${p.index}]`);
        checked++;
      }
    };
    // {256, 7} -> {32, 8, 7}: head h, dimension d of token t is element 32h + d of row t.
    expectSame(byName('Qcur-0 (reshaped)', 'RESHAPE'), byName('Qcur-0', 'MUL_MAT'), ([d, h, t]) => [32 * h + d, t, 0, 0]);
    expectSame(byName('Vcur-0 (transposed)', 'TRANSPOSE'), byName('Vcur-0', 'MUL_MAT'), ([a, b]) => [b, a, 0, 0]);
    // kqv {32, 7 tokens, 8 heads} -> kqv_merged {32, 8 heads, 7 tokens}
    expectSame(byName('kqv_merged-0', 'PERMUTE'), byName('kqv-0', 'MUL_MAT'), ([d, h, t]) => [d, t, h, 0]);
    assert.ok(checked > 40, `only ${checked} values printed in both`);
  });
});

describe('eval-callback parser on a hand-made dump in the newer format (common/debug.cpp)', () => {
  // See test/fixtures/eval-callback/README.md for how the values were chosen.
  const formula = (k: number) => ([i0, i1, i2, i3]: NodeIndex) => ((((i0 + 3 * i1 + 5 * i2 + 7 * i3 + 11 * k) % 17) + 17) % 17 - 8) / 16;
  const formulaNodes: Record<string, number> = { inp_embd: 0, 'norm-0': 1, 'kq-0': 2, 'k_cache_view-0 (copy of Kcur-0)': 3, result_output: 7 };
  const full = (node: EvalCallbackNode, f: (i: NodeIndex) => number) => {
    const [ne0, ne1, ne2, ne3] = node.shape;
    const a = new Float32Array(ne0 * ne1 * ne2 * ne3);
    for (let i3 = 0; i3 < ne3; i3++) for (let i2 = 0; i2 < ne2; i2++) for (let i1 = 0; i1 < ne1; i1++) for (let i0 = 0; i0 < ne0; i0++) a[flatIndex([i0, i1, i2, i3], node.shape)] = f([i0, i1, i2, i3]);
    return a;
  };

  it('nodes, indices, values, whole-tensor sums (one per i3 slice), prompt tokens, non-finite values', () => {
    const dump = readEvalCallback(FIXTURE);
    assert.equal(dump.layout, 'indented');
    assert.equal(dump.sumCovers, 'whole-tensor', dump.sumEvidence);
    assert.deepEqual(dump.promptTokens, [1, 42, 7]);
    assert.deepEqual(dump.warnings, []);
    assert.deepEqual(
      dump.nodes.map((n) => `${n.name} ${n.type} ${n.op}`),
      [
        'inp_embd f32 GET_ROWS',
        'norm-0 f32 RMS_NORM',
        'kq-0 f32 MUL_MAT',
        'k_cache_view-0 (copy of Kcur-0) f16 CPY',
        'v_cache_view-0 (copy of Vcur-0) q8_0 CPY',
        'kq_soft_max-0 f32 SOFT_MAX',
        'ffn_out-0 f32 MUL_MAT',
        'result_output f32 MUL_MAT',
      ],
    );
    assert.deepEqual(dump.nodes[1].sources, [{ name: 'inp_embd', shape: [8, 3, 1, 1] }]);
    for (const node of dump.nodes.filter((n) => n.name in formulaNodes)) {
      const f = formula(formulaNodes[node.name]);
      assert.deepEqual(node.printed.map((p) => p.index), expectedIndexTuples(node.shape), node.name);
      for (const p of node.printed) assert.equal(p.value, f(p.index), `${node.name}[${p.index}]`);
      const whole = full(node, f).reduce((a, b) => a + b, 0);
      assert.deepEqual(node.sums, Array(node.shape[3]).fill(whole), node.name);
    }
    const quantized = dump.nodes[4];
    assert.deepEqual([quantized.printed, quantized.sums], [[], []]);
    assert.deepEqual(dump.nodes[5].printed.map((p) => p.value), [0.25, 0.25, 0.25, 0.25, NaN, NaN, NaN, NaN]);
    assert.deepEqual(dump.nodes[6].printed.map((p) => p.value), [1.5, Infinity, -2.25, -Infinity]);
    assert.ok(Number.isNaN(dump.nodes[6].sums[0]));
  });

  it('the whole-tensor sum catches a difference in values the dump did not print', () => {
    const dump = readEvalCallback(FIXTURE);
    const kq = dump.nodes.find((n) => n.name === 'kq-0')!;
    const ours = full(kq, formula(2));
    assert.equal(compareNode(kq, ours, { sumCovers: dump.sumCovers }).matches, true);
    ours[flatIndex([3, 3, 3, 1], kq.shape)] += 0.5; // the middle of every dimension: never printed
    const c = compareNode(kq, ours, { sumCovers: dump.sumCovers });
    assert.equal(c.firstDivergence, undefined);
    assert.equal(c.sum?.withinTolerance, false);
    assert.equal(c.matches, false);
    assert.equal(c.sum?.actual, kq.sums[0] + 0.5);
  });

  it('NaN matches NaN; a finite value where the dump printed NaN diverges', () => {
    const dump = readEvalCallback(FIXTURE);
    const softmax = dump.nodes.find((n) => n.name === 'kq_soft_max-0')!;
    const ours = Float32Array.of(0.25, 0.25, 0.25, 0.25, NaN, NaN, NaN, NaN);
    assert.equal(compareNode(softmax, ours, { sumCovers: dump.sumCovers }).matches, true);
    ours.fill(0.25, 4);
    const c = compareNode(softmax, ours, { sumCovers: dump.sumCovers });
    assert.deepEqual(c.firstDivergence?.index, [0, 1, 0, 0]);
    assert.equal(c.divergentCount, 4);
    assert.equal(c.relativeError, Infinity);
    assert.equal(c.sum?.withinTolerance, false);
  });

  it('says when a text has no node headers at all', () => {
    assert.throws(() => parseEvalCallback('llama_model_loader: loaded meta data\nmain: done\n'), /found no node headers .* is this the stdout of llama-eval-callback\?/);
  });

  it('keeps the nodes before a dump cut off inside a node, and says so', () => {
    const text = fs.readFileSync(FIXTURE, 'utf8');
    const cut = text.slice(0, text.indexOf('common_debug_cb_eval:                     kq-0') + 2000);
    const dump = parseEvalCallback(cut);
    assert.deepEqual(dump.nodes.map((n) => n.name), ['inp_embd', 'norm-0']);
    assert.match(dump.warnings[0], /the values of node 'kq-0' \(line \d+\) end before its closing brackets and sum/);
  });
});

describe('compareNode / compareDump against the reference dumps', () => {
  for (const suffix of DUMPS) {
    it(`${suffix}: the dump's own printed values placed into full arrays match every node, values and sums`, () => {
      const dump = readEvalCallback(dumpPath(suffix));
      const result = compareDump(dump, fromPrinted);
      assert.equal(result.comparisons.length, dump.nodes.length);
      assert.equal(result.firstDivergent, undefined, JSON.stringify(result.firstDivergent));
      for (const c of result.comparisons) assert.equal(c.sum?.withinTolerance, true, c.name);
    });
  }

  it('reports the first node and element that differ, with the relative error', () => {
    const dump = readEvalCallback(dumpPath('q4_k_m'));
    const ffnOut = dump.nodes.find((n) => n.name === 'ffn_out-2')!;
    const later = dump.nodes.find((n) => n.name === 'kqv_out-4')!;
    const target = ffnOut.printed[8]; // row 1, the last printed element but one
    const perturbed = new Map<number, Float32Array>();
    const a = fromPrinted(ffnOut);
    a[flatIndex(target.index, ffnOut.shape)] = target.value * 1.01 + 0.001;
    perturbed.set(ffnOut.position, a);
    const b = fromPrinted(later);
    b[0] += 1;
    perturbed.set(later.position, b);

    const result = compareDump(dump, (n) => perturbed.get(n.position) ?? fromPrinted(n));
    const first = result.firstDivergent!;
    assert.equal(first.position, ffnOut.position);
    assert.equal(first.name, 'ffn_out-2');
    assert.deepEqual(first.firstDivergence!.index, target.index);
    assert.equal(first.firstDivergence!.expected, target.value);
    const absError = Math.abs(Math.fround(target.value * 1.01 + 0.001) - target.value);
    assert.ok(Math.abs(first.firstDivergence!.absError - absError) < 1e-12);
    assert.ok(Math.abs(first.firstDivergence!.relativeError - absError / Math.abs(target.value)) < 1e-9);
    assert.equal(first.divergentCount, 1);
    assert.equal(result.comparisons.filter((c) => !c.matches).map((c) => c.name).join(), 'ffn_out-2,kqv_out-4');
  });

  it("in the older format a value the dump did not print cannot be checked: its sum covers printed values only", () => {
    const dump = readEvalCallback(dumpPath('f32'));
    const node = dump.nodes[0];
    const ours = fromPrinted(node);
    ours[flatIndex([100, 3, 0, 0], node.shape)] = 1000;
    assert.equal(compareNode(node, ours, { sumCovers: dump.sumCovers }).matches, true);
  });

  it('refuses an array of another size, naming both sizes', () => {
    const node = readEvalCallback(dumpPath('f32')).nodes[0];
    assert.throws(() => compareNode(node, new Float32Array(10), { sumCovers: 'printed-values' }), /shape \{256, 7, 1, 1\} = 1792 values, but the array given has 10/);
  });
});
