// How a Tensor shows itself in a notebook. Rendering is synchronous and a lazy tensor has no
// values yet, so a cell ending in a tensor shows its shape, dtype, backend and state; `await
// summarize(t)` computes it and shows statistics with a histogram.
import { Tensor } from '../tensor';
import { escapeHtml } from './format';
import type { Displayable, MimeBundle } from './display';
import { tensorSummary } from './summary';

export function tensorBundle(t: Tensor): MimeBundle {
  const state = t.node.buffer ? 'computed' : 'lazy — `await summarize(t)` or `await t.data()` computes it';
  const text = `Tensor [${t.shape.join(', ')}] ${t.dtype} on ${t.backend.description} (${state})`;
  return { 'text/plain': text, 'text/html': `<code>${escapeHtml(text)}</code>` };
}

/** Compute the tensor and show min/max/mean/RMS and a histogram of its values. */
export async function summarize(t: Tensor, name?: string): Promise<Displayable> {
  const values = t.dtype === 'f32' || t.dtype === 'i32' ? await t.data() : await t.cast('f32').data();
  return tensorSummary({ values, shape: t.shape, dtype: t.dtype, backend: t.backend.description, name });
}
