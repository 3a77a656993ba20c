/** A shape, dtype or backend mistake in tensor code, reported where the op is created or realized. */
export class TensorError extends Error {
  override name = 'TensorError';
}

/** A device buffer that could not be allocated. The message names the device; `problem` is the rest. */
export class DeviceMemoryError extends TensorError {
  override name = 'DeviceMemoryError';

  constructor(
    readonly device: string,
    readonly problem: string,
  ) {
    super(`${device}: ${problem}`);
  }
}

/** What a failed allocation asked for, and what the device held at that moment. */
export interface AllocationFailure {
  /** The backend's description (it names the adapter). */
  device: string;
  /** What the buffer was for, e.g. "1048576 f32 values". */
  what: string;
  requestedBytes: number;
  /** Bytes held by live buffers of this backend. */
  heldBytes: number;
  /** How many buffers hold them, when the backend counts. */
  liveBuffers?: number;
  /**
   * The limit the request ran into, when it is one we know: a cap on one buffer (`perBuffer`:
   * freeing memory cannot help then) or on all of them together.
   */
  limit?: { name: string; bytes?: number; perBuffer: boolean };
  /** The device's or the runtime's own words. */
  reported?: string;
  /** The device cannot be used after this failure (a new backend must be opened). */
  fatal?: boolean;
  /** A way out particular to this backend, offered after the usual ones. */
  alsoTry?: string;
}

const FREEING_ADVICE =
  'Free tensors you no longer need: t.dispose() frees a computed result, and `await scope(async () => …)` frees everything a cell made except what it returns; or work on smaller parts (t.slice(axis, start, end))';

/** The error for an allocation that failed: how much was asked for, what is held, and what to do. */
export function outOfMemoryError(f: AllocationFailure): DeviceMemoryError {
  const reported = f.reported ? `"${f.reported}"` : '';
  const held = `${formatBytes(f.heldBytes)} held${f.liveBuffers === undefined ? '' : ` in ${f.liveBuffers} live buffer${f.liveBuffers === 1 ? '' : 's'}`}`;
  const asked = `could not allocate ${formatBytes(f.requestedBytes)} for ${f.what}`;
  const alsoTry = f.alsoTry ? `; or ${f.alsoTry}` : '';
  if (f.limit?.perBuffer) {
    const why = [f.limit.name, reported].filter(Boolean).join('; ');
    const most = f.limit.bytes === undefined ? `one buffer cannot be that large here (${why})` : `one buffer holds at most ${formatBytes(f.limit.bytes)} here (${why})`;
    return new DeviceMemoryError(
      f.device,
      `${asked}: ${most}; ${held}. ` +
        `Freeing memory cannot help: compute on smaller parts (t.slice(axis, start, end)) and combine the results${alsoTry}`,
    );
  }
  const limit = f.limit ? `, ${f.limit.name}${f.limit.bytes === undefined ? '' : ` ${formatBytes(f.limit.bytes)}`}` : '';
  const next = f.fatal ? `This backend cannot be used any more: open a new one (await useBackend('webgpu')) and hold less at once. ${FREEING_ADVICE}` : FREEING_ADVICE;
  return new DeviceMemoryError(f.device, `out of memory: ${asked}${reported ? ` (${reported})` : ''}; ${held}${limit}. ${next}${alsoTry}`);
}

/** e.g. "1.50 GiB (1610612736 bytes)": readable, and exact for comparing with what a shape needs. */
function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(2)} ${units[unit]} (${bytes} bytes)`;
}
