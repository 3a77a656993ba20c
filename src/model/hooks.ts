// Hook points of the forward pass, named as TransformerLens names them, with the node name
// llama.cpp's llama-eval-callback prints for the same value. A hook name is declared here once.
//
// Layouts are row-major: [tokens, width] for the residual stream; [tokens, heads, headDim] for
// q/k/v; [heads, tokens, keys] for scores and pattern. llama.cpp prints the same memory with
// dimensions innermost first ({width, tokens}, {headDim, heads, tokens}, {keys, tokens, heads}).

export interface HookPoint {
  /** e.g. 'blocks.3.attn.hook_pattern' */
  name: string;
  /** llama-eval-callback node name for the same value, when there is one (e.g. 'kq_soft_max_ext-3'). */
  llamaCpp: string | null;
  description: string;
}

const BLOCK_HOOKS: [string, string | null, string][] = [
  ['hook_resid_pre', null, 'residual stream entering the block'],
  ['ln1.hook_normalized', 'attn_norm', 'RMS-normalized input times attn_norm.weight'],
  ['attn.hook_q', 'Qcur', 'queries before RoPE [tokens, heads, headDim]'],
  ['attn.hook_k', 'Kcur', 'keys before RoPE [tokens, kvHeads, headDim]'],
  ['attn.hook_v', 'Vcur', 'values [tokens, kvHeads, headDim]'],
  ['attn.hook_rot_q', 'Qcur', 'queries after RoPE (llama.cpp prints the same name again)'],
  ['attn.hook_rot_k', 'Kcur', 'keys after RoPE'],
  ['attn.hook_attn_scores', 'kq', 'raw q·k per head [heads, tokens, keys], before scaling and mask'],
  ['attn.hook_pattern', 'kq_soft_max_ext', 'attention probabilities [heads, tokens, keys]'],
  ['attn.hook_z', 'kqv_merged_cont', 'per-head outputs, heads concatenated [tokens, heads*headDim]'],
  ['hook_attn_out', 'kqv_out', 'attention output projection'],
  ['hook_resid_mid', 'ffn_inp', 'residual stream after attention'],
  ['ln2.hook_normalized', 'ffn_norm', 'RMS-normalized residual times ffn_norm.weight'],
  ['mlp.hook_gate', 'ffn_gate', 'gate projection'],
  ['mlp.hook_up', 'ffn_up', 'up projection'],
  ['mlp.hook_post', 'ffn_gate_par', 'silu(gate) * up'],
  ['hook_mlp_out', 'ffn_out', 'down projection'],
  ['hook_resid_post', 'l_out', 'residual stream leaving the block'],
];

/** Every hook point of a model with `blocks` blocks, in forward order. */
export function hookPoints(blocks: number): HookPoint[] {
  const points: HookPoint[] = [{ name: 'hook_embed', llamaCpp: 'inp_embd', description: 'token embeddings' }];
  for (let b = 0; b < blocks; b++) {
    for (const [hook, alias, description] of BLOCK_HOOKS) {
      points.push({ name: `blocks.${b}.${hook}`, llamaCpp: alias ? `${alias}-${b}` : null, description });
    }
  }
  points.push(
    { name: 'ln_final.hook_normalized', llamaCpp: 'result_norm', description: 'final RMS norm times output_norm.weight' },
    { name: 'hook_logits', llamaCpp: 'result_output', description: 'logits [tokens, vocab]' },
  );
  return points;
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
