/** A shape, dtype or backend mistake in tensor code, reported where the op is created or realized. */
export class TensorError extends Error {
  override name = 'TensorError';
}
