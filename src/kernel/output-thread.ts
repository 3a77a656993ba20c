// The main thread's handle on the IOPub thread (output-worker.ts).
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FromOutputThread, OutputThreadConfig, StreamName, ToOutputThread } from './output-worker';
import type { Header } from './wire';

export class OutputThread {
  private constructor(private readonly worker: Worker) {}

  /** Resolves once both sockets are bound; later problems of the thread go to `onError`. */
  static start(config: OutputThreadConfig, onError: (message: string) => void): Promise<OutputThread> {
    // The worker runs TypeScript too, so it registers tsx first, resolved from here rather than
    // from the notebook's directory (the process's cwd).
    const bootstrap = `require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register();\nrequire(${JSON.stringify(path.join(__dirname, 'output-worker.ts'))});`;
    const worker = new Worker(bootstrap, { eval: true, workerData: config });
    return new Promise((resolve, reject) => {
      let started = false;
      worker.on('message', (message: FromOutputThread) => {
        if (message === 'bound') {
          started = true;
          resolve(new OutputThread(worker));
        } else if (typeof message === 'object') {
          if (started) onError(message.error);
          else reject(new Error(message.error));
        }
      });
      worker.once('error', reject);
    });
  }

  /** An encoded message (wire.ts), sent after any stream text posted before it. */
  publish(frames: (string | Buffer)[]): void {
    this.post({ frames });
  }

  /** Text a cell printed; the thread gathers it into few 'stream' messages. */
  stream(parent: Header, name: StreamName, text: string): void {
    this.post({ stream: { parent, name, text } });
  }

  /** Sends what is pending (within the sockets' linger time), closes the sockets, ends the thread. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.worker.on('message', (m: FromOutputThread) => m === 'closed' && resolve()));
    this.post('close');
    await closed;
    await this.worker.terminate();
  }

  private post(message: ToOutputThread): void {
    this.worker.postMessage(message);
  }
}
