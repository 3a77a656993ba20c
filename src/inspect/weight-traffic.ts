// How many bytes of weights one decoded token must read: every tensor once, except the token
// embedding, of which a step reads one row (unless it doubles as the output projection). With the
// measured memory bandwidth this turns tokens per second into GB/s and a share of what the memory
// can deliver.
import { openGGUF, type GGUFFile } from '../gguf';

export function weightBytesPerToken(source: string | GGUFFile): number {
  const file = typeof source === 'string' ? openGGUF(source) : source;
  try {
    const tied = !file.tensors.some((t) => t.name === 'output.weight');
    let bytes = 0;
    for (const t of file.tensors) {
      const oneRow = t.name === 'token_embd.weight' && !tied;
      bytes += oneRow ? t.nBytes / t.shape.slice(1).reduce((a, b) => a * b, 1) : t.nBytes;
    }
    return bytes;
  } finally {
    if (typeof source === 'string') file.close();
  }
}
