// Hook points of the forward pass, named as TransformerLens names them, with the node names
// llama.cpp's llama-eval-callback prints for the same value (which changed between llama.cpp
// builds, see LLAMA_CPP_BUILDS). A hook name is declared here once.
//
// Layouts are row-major: [tokens, width] for the residual stream; [tokens, heads, headDim] for
// q/k/v; [heads, tokens, keys] for scores and pattern. llama.cpp prints the same memory with
// dimensions innermost first ({width, tokens}, {headDim, heads, tokens}, {keys, tokens, heads}).

export interface HookPoint {
  /** e.g. 'blocks.3.attn.hook_pattern' */
  name: string;
  /**
   * The node name llama-eval-callback printed for the same value in the build that made the shared
   * references (e.g. 'kq_soft_max_ext-3'); null when llama.cpp names no such node. Other builds:
   * `llamaCppNodes`.
   */
  llamaCpp: string | null;
  /** Every node llama.cpp builds have printed for this value (see LLAMA_CPP_BUILDS). */
  llamaCppNodes: LlamaCppNode[];
  description: string;
}

/**
 * The llama.cpp builds whose node names the alias table knows (read from their source). A build in
 * between may print either name for a value: when each rename happened is not pinned down here.
 */
export const LLAMA_CPP_BUILDS = {
  older: 'c392e50 (2025-02-20, the build of the shared references; graph built in src/llama.cpp)',
  newer: 'master as read in 2026 (graph built in src/llama-graph.cpp build_qkv / build_attn / build_ffn and src/models/llama.cpp)',
} as const;

export interface LlamaCppNode {
  /** As llama-eval-callback prints it, e.g. 'kq_soft_max-3'. */
  name: string;
  /**
   * The op it prints (ggml_op_desc). Part of the key: 'kqv_out' is the output projection (MUL_MAT) in
   * older builds and the heads concatenated (CONT) before that projection in newer ones.
   */
  op: string;
  builds: keyof typeof LLAMA_CPP_BUILDS | 'both';
}

type Alias = [name: string, op: string, builds: LlamaCppNode['builds']];

// Newer builds also name the reshape of Qcur / Kcur / Vcur to heads (build_qkv) after the matmul:
// the same values, so the same hook.
const BLOCK_HOOKS: [hook: string, aliases: Alias[], description: string][] = [
  ['hook_resid_pre', [], 'residual stream entering the block'],
  ['ln1.hook_normalized', [['attn_norm', 'MUL', 'both']], 'RMS-normalized input times attn_norm.weight'],
  ['attn.hook_q', [['Qcur', 'MUL_MAT', 'both'], ['Qcur', 'RESHAPE', 'newer']], 'queries before RoPE [tokens, heads, headDim]'],
  ['attn.hook_k', [['Kcur', 'MUL_MAT', 'both'], ['Kcur', 'RESHAPE', 'newer']], 'keys before RoPE [tokens, kvHeads, headDim]'],
  ['attn.hook_v', [['Vcur', 'MUL_MAT', 'both'], ['Vcur', 'RESHAPE', 'newer']], 'values [tokens, kvHeads, headDim]'],
  ['attn.hook_rot_q', [['Qcur', 'ROPE', 'both']], 'queries after RoPE (llama.cpp prints the same name again)'],
  ['attn.hook_rot_k', [['Kcur', 'ROPE', 'both']], 'keys after RoPE'],
  ['attn.hook_attn_scores', [['kq', 'MUL_MAT', 'both']], 'raw q·k per head [heads, tokens, keys], before scaling and mask'],
  ['attn.hook_pattern', [['kq_soft_max_ext', 'SOFT_MAX', 'older'], ['kq_soft_max', 'SOFT_MAX', 'newer']], 'attention probabilities [heads, tokens, keys]'],
  ['attn.hook_z', [['kqv_merged_cont', 'CONT', 'older'], ['kqv_out', 'CONT', 'newer']], 'per-head outputs, heads concatenated [tokens, heads*headDim]'],
  ['hook_attn_out', [['kqv_out', 'MUL_MAT', 'older'], ['attn_out', 'MUL_MAT', 'newer']], 'attention output projection'],
  ['hook_resid_mid', [['ffn_inp', 'ADD', 'both']], 'residual stream after attention'],
  ['ln2.hook_normalized', [['ffn_norm', 'MUL', 'both']], 'RMS-normalized residual times ffn_norm.weight'],
  ['mlp.hook_gate', [['ffn_gate', 'MUL_MAT', 'both']], 'gate projection'],
  ['mlp.hook_up', [['ffn_up', 'MUL_MAT', 'both']], 'up projection'],
  // older: ffn_silu-N (SILU) then this product; newer: one fused SWIGLU op
  ['mlp.hook_post', [['ffn_gate_par', 'MUL', 'older'], ['ffn_swiglu', 'SWIGLU', 'newer']], 'silu(gate) * up'],
  ['hook_mlp_out', [['ffn_out', 'MUL_MAT', 'both']], 'down projection'],
  ['hook_resid_post', [['l_out', 'ADD', 'both']], 'residual stream leaving the block'],
];
// Not aliased: norm-N / norm (RMS_NORM before the weight multiply, in both builds), for which the
// forward has no hook of its own.

/** Every hook point of a model with `blocks` blocks, in forward order. */
export function hookPoints(blocks: number): HookPoint[] {
  const point = (name: string, aliases: Alias[], suffix: string, description: string): HookPoint => {
    const llamaCppNodes = aliases.map(([alias, op, builds]) => ({ name: alias + suffix, op, builds }));
    return { name, llamaCpp: llamaCppNodes.find((n) => n.builds !== 'newer')?.name ?? null, llamaCppNodes, description };
  };
  const points = [point('hook_embed', [['inp_embd', 'GET_ROWS', 'both']], '', 'token embeddings')];
  for (let b = 0; b < blocks; b++) {
    for (const [hook, aliases, description] of BLOCK_HOOKS) points.push(point(`blocks.${b}.${hook}`, aliases, `-${b}`, description));
  }
  points.push(
    point('ln_final.hook_normalized', [['result_norm', 'MUL', 'both']], '', 'final RMS norm times output_norm.weight'),
    point('hook_logits', [['result_output', 'MUL_MAT', 'both']], '', 'logits [tokens, vocab]'),
  );
  return points;
}

/** The hook point holding the value of a llama-eval-callback node (name and op as printed), in any known build. */
export function hookOfLlamaCppNode(points: readonly HookPoint[]): (name: string, op: string) => string | undefined {
  const byNode = new Map<string, string>();
  for (const h of points) for (const n of h.llamaCppNodes) byNode.set(`${n.name} ${n.op}`, h.name);
  return (name, op) => byNode.get(`${name} ${op}`);
}

/** Hook names matching a glob ('*' within a dot-separated part, '**' across parts), or an exact name. */
export function matchHooks(names: readonly string[], pattern: string): string[] {
  const re = new RegExp(
    '^' +
      pattern
        .split('**')
        .map((part) => part.split('*').map(escapeRegExp).join('[^.]*'))
        .join('.*') +
      '$',
  );
  return names.filter((n) => re.test(n));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
