// What cells write to process.stdout and process.stderr becomes Jupyter 'stream' output: every write
// goes at once to `emit` (the IOPub thread, which gathers writes into few messages).
import type { StreamName } from './output-worker';

type Write = typeof process.stdout.write;

export class StreamCapture {
  private readonly decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  private readonly originals = new Map<StreamName, Write>();

  constructor(private readonly emit: (name: StreamName, text: string) => void) {}

  install(): void {
    for (const name of ['stdout', 'stderr'] as const) {
      const stream = process[name];
      this.originals.set(name, stream.write);
      stream.write = ((chunk: string | Uint8Array, encoding?: BufferEncoding | ((e?: Error | null) => void), callback?: (e?: Error | null) => void) => {
        // Multi-byte characters may be split across chunks: the decoder keeps the partial bytes.
        const text = typeof chunk === 'string' ? chunk : this.decoders[name].decode(chunk, { stream: true });
        if (text !== '') this.emit(name, text);
        (typeof encoding === 'function' ? encoding : callback)?.();
        return true;
      }) as Write;
    }
  }

  restore(): void {
    for (const [name, write] of this.originals) process[name].write = write;
    this.originals.clear();
  }
}
