// The IOPub thread: publishes outputs, coalesces stream text, and echoes heartbeats. Living off the
// main thread, it keeps outputs flowing and the heartbeat answering while a cell keeps the main
// thread busy with a long synchronous computation (a forward pass, a quantization): prints and
// progress show live, and no frontend mistakes a busy kernel for a dead one.
//
// Stream text is sent after STREAM_FLUSH_MS of gathering, as ipykernel does, so that a loop of prints
// is a few messages rather than thousands; any other output first sends what is pending, so order holds.
import { parentPort, workerData } from 'node:worker_threads';
import { Publisher, Reply } from 'zeromq';
import { Signer, encode, iopubMessage, type Header } from './wire';

export interface OutputThreadConfig {
  iopub: string;
  heartbeat: string;
  signatureScheme: string;
  key: string;
  session: string;
}
export type StreamName = 'stdout' | 'stderr';
export type ToOutputThread =
  /** A message the main thread encoded (there, a value JSON cannot carry fails the cell that sent it). */
  | { frames: (string | Uint8Array)[] }
  | { stream: { parent: Header; name: StreamName; text: string } }
  | 'close';
export type FromOutputThread = 'bound' | 'closed' | { error: string };

const STREAM_FLUSH_MS = 50;

const config = workerData as OutputThreadConfig;
const signer = new Signer(config.signatureScheme, config.key);
const main = parentPort!;
const tell = (message: FromOutputThread) => main.postMessage(message);

// No high-water mark: outputs queue rather than being dropped silently while a frontend catches up.
const iopub = new Publisher({ sendHighWaterMark: 0, linger: 1000 });
const heartbeat = new Reply({ linger: 0 });

let pending: { parent: Header; name: StreamName; text: string }[] = [];
let flushTimer: NodeJS.Timeout | undefined;

function send(frames: (string | Uint8Array)[]): void {
  iopub.send(frames).catch((e: Error) => tell({ error: `iopub: ${e.message}` }));
}

function flushStreams(): void {
  clearTimeout(flushTimer);
  flushTimer = undefined;
  for (const { parent, name, text } of pending) send(encode(iopubMessage(config.session, parent, 'stream', { name, text }), signer));
  pending = [];
}

function addStream(parent: Header, name: StreamName, text: string): void {
  const last = pending[pending.length - 1];
  if (last && last.name === name && last.parent.msg_id === parent.msg_id) last.text += text;
  else pending.push({ parent, name, text });
  flushTimer ??= setTimeout(flushStreams, STREAM_FLUSH_MS);
}

async function echoHeartbeats(): Promise<void> {
  try {
    for await (const frames of heartbeat) await heartbeat.send(frames);
  } catch (e) {
    if (!heartbeat.closed) tell({ error: `heartbeat: ${(e as Error).message}` });
  }
}

main.on('message', (message: ToOutputThread) => {
  if (message === 'close') {
    flushStreams();
    iopub.close();
    heartbeat.close();
    tell('closed');
  } else if ('stream' in message) {
    addStream(message.stream.parent, message.stream.name, message.stream.text);
  } else {
    flushStreams();
    send(message.frames);
  }
});

Promise.all([iopub.bind(config.iopub), heartbeat.bind(config.heartbeat)]).then(
  () => {
    tell('bound');
    void echoHeartbeats();
  },
  (e: Error) => tell({ error: `cannot bind ${config.iopub} / ${config.heartbeat}: ${e.message}` }),
);
