// The kernel: binds the sockets the connection file names, speaks the Jupyter messaging protocol
// (https://jupyter-client.readthedocs.io/en/latest/messaging.html) and runs cells with CellRunner.
//
// Shell and control are Router sockets read on the main thread; IOPub and the heartbeat live in a
// worker thread (output-worker.ts). Shell requests are handled one at a time in arrival order;
// control requests (interrupt, shutdown, kernel_info) whenever the main thread is free. Every
// request is bracketed by busy/idle status messages. The stdin channel is not bound: cells cannot
// prompt for input.
import { randomUUID } from 'node:crypto';
import { Router } from 'zeromq';
// display.ts alone: the kernel starts even when the rest of the library does not load. Renderers for
// the library's objects (a GGUF file shows as tables) register when a cell imports 'llamascope'.
import { setDisplaySink, toBundle, type CellInfo, type DisplaySink } from '../notebook/display';
import type { CellRunner } from './cell-runner';
import { endpoint, type ConnectionInfo } from './connection';
import { setClearHandler } from './clear-output';
import { codePointOffset, utf16Offset } from './cursor';
import { displaySink, jsonBundle } from './display-sink';
import { describeThrown, notRunError, thrownError, type CellError } from './errors';
import { helpTarget } from './help';
import { History, type HistoryRequest } from './history';
import { isComplete } from './is-complete';
import { kernelInfo } from './kernel-info';
import { log } from './log';
import { OutputThread } from './output-thread';
import type { StreamName } from './output-worker';
import { StreamCapture } from './streams';
import { Signer, decode, encode, iopubMessage, newHeader, type Content, type Header, type Message } from './wire';

interface ExecuteRequest {
  code: string;
  silent?: boolean;
  store_history?: boolean;
  stop_on_error?: boolean;
}

/** What JupyterLab puts in an execute_request's metadata about the cell. */
interface CellMetadata {
  cellId?: string;
  deletedCells?: string[];
}

interface CodeRequest {
  code: string;
  cursor_pos: number;
}

// Sockets get this long to deliver what is queued when they close (the shutdown reply, the last idle).
const LINGER_MS = 1000;
// How long a failure waits for the requests sent with it to arrive (see takeQueuedCells).
const STRAGGLERS_MS = 20;

export class Kernel {
  private readonly history = new History();
  private readonly streams = new StreamCapture((name, text) => this.output(name, text));
  private executionCount = 0;
  /** The execute request that outputs belong to: the running one, else the one that ran last. */
  private outputParent: Header | undefined;
  private cellRunning = false;
  /** Failures outside any cell (unhandled rejections), held for the next cell to report. */
  private readonly strays: string[] = [];
  private readonly shellQueue: Message[] = [];
  /** display()/update from cells, to the output parent. */
  private readonly displaySink: DisplaySink = displaySink((msgType, content) => this.outputParent && this.publish(this.outputParent, msgType, content));
  private pumping = false;
  /** Set by a cell that failed with stop_on_error: its execution count, and the cells it stops. */
  private stopped: { failedCount: number; requests: Message[] } | undefined;
  private resolveClosed!: () => void;
  /** Resolves once a shutdown_request has been answered and every socket is closed. */
  readonly closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));

  private constructor(
    private readonly session: string,
    private readonly runner: CellRunner,
    private readonly signer: Signer,
    private readonly shell: Router,
    private readonly control: Router,
    private readonly iopub: OutputThread,
  ) {}

  static async start(connection: ConnectionInfo, runner: CellRunner): Promise<Kernel> {
    const signer = new Signer(connection.signature_scheme, connection.key);
    const session = randomUUID();
    const iopub = await OutputThread.start(
      {
        iopub: endpoint(connection, connection.iopub_port),
        heartbeat: endpoint(connection, connection.hb_port),
        signatureScheme: connection.signature_scheme,
        key: connection.key,
        session,
      },
      (problem) => log(problem),
    );
    const shell = new Router({ linger: LINGER_MS });
    const control = new Router({ linger: LINGER_MS });
    await Promise.all([shell.bind(endpoint(connection, connection.shell_port)), control.bind(endpoint(connection, connection.control_port))]);
    const kernel = new Kernel(session, runner, signer, shell, control, iopub);
    kernel.streams.install();
    setClearHandler((wait) => kernel.outputParent && kernel.publish(kernel.outputParent, 'clear_output', { wait }));
    void kernel.listen(shell, (message) => kernel.enqueue(message));
    void kernel.listen(control, (message) => void kernel.handle(control, message));
    return kernel;
  }

  /** SIGINT: stop the running cell, keep everything else. */
  interrupt(): void {
    this.runner.interrupt();
  }

  /** An unhandled rejection or uncaught exception: shown in the running cell, or else the next one. */
  reportStray(what: string, reason: unknown): void {
    const text = `${what}, and nothing awaited or caught it:\n${describeThrown(reason)}\n`;
    log(text);
    if (this.cellRunning) process.stderr.write(text);
    else this.strays.push(`From an earlier cell: ${text}`);
  }

  private async listen(socket: Router, deliver: (message: Message) => void): Promise<void> {
    try {
      for await (const frames of socket) {
        try {
          deliver(decode(frames, this.signer));
        } catch (e) {
          log(`dropped a message: ${(e as Error).message}`);
        }
      }
    } catch (e) {
      if (!socket.closed) log(`stopped listening: ${(e as Error).message}`);
    }
  }

  private enqueue(message: Message): void {
    this.shellQueue.push(message);
    if (!this.pumping) void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    for (let next = this.shellQueue.shift(); next; next = this.shellQueue.shift()) {
      await this.handle(this.shell, next);
      if (this.stopped) this.skip(this.stopped.failedCount, this.stopped.requests);
      this.stopped = undefined;
    }
    this.pumping = false;
  }

  private async handle(socket: Router, request: Message): Promise<void> {
    const type = request.header.msg_type;
    this.publish(request.header, 'status', { execution_state: 'busy' });
    try {
      switch (type) {
        case 'execute_request':
          return await this.execute(request);
        case 'kernel_info_request':
          return this.reply(socket, request, kernelInfo());
        case 'complete_request':
          return this.complete(socket, request);
        case 'inspect_request':
          return this.inspect(socket, request);
        case 'is_complete_request':
          return this.reply(socket, request, isComplete((request.content as { code: string }).code));
        case 'history_request':
          return this.reply(socket, request, { status: 'ok', history: this.history.query(request.content as unknown as HistoryRequest) });
        case 'comm_info_request':
          return this.reply(socket, request, { status: 'ok', comms: {} });
        case 'interrupt_request':
          this.interrupt();
          return this.reply(socket, request, { status: 'ok' });
        case 'shutdown_request':
          this.reply(socket, request, { status: 'ok', restart: Boolean(request.content.restart) });
          // After this handler's idle status has been published.
          setImmediate(() => void this.shutdown());
          return;
        case 'comm_open':
        case 'comm_msg':
        case 'comm_close':
          return; // No comms (widgets): Jupyter says to ignore these rather than answer.
        default:
          log(`ignored a ${type} message: not supported`);
      }
    } catch (e) {
      log(`failed to handle ${type}: ${describeThrown(e)}`);
      if (type.endsWith('_request')) this.reply(socket, request, { status: 'error', ...thrownError(e) });
    } finally {
      this.publish(request.header, 'status', { execution_state: 'idle' });
    }
  }

  private async execute(request: Message): Promise<void> {
    const { code, silent = false, store_history = true, stop_on_error = true } = request.content as unknown as ExecuteRequest;
    const storeHistory = store_history && !silent;
    if (storeHistory) this.executionCount++;
    const count = this.executionCount;
    // Silent requests broadcast nothing; what they print goes to the kernel's log.
    this.outputParent = silent ? undefined : request.header;
    if (!silent) this.publish(request.header, 'execute_input', { code, execution_count: count });
    if (storeHistory) this.history.record(count, code);
    const { cellId, deletedCells } = request.metadata as CellMetadata;
    setDisplaySink(this.displaySink, { cellId, deletedCellIds: deletedCells } satisfies CellInfo);
    if (!silent) {
      for (const text of this.strays.splice(0)) process.stderr.write(text);
    }

    const help = helpTarget(code);
    if (help !== undefined) return this.replyHelp(request, help, count);

    this.cellRunning = true;
    const outcome = await this.runner.run(code);
    // Rejections this cell left unhandled surface after the microtasks: report them while it is current.
    await nextMacrotask();
    this.cellRunning = false;

    let error: CellError | undefined = outcome.ok ? undefined : outcome.error;
    if (outcome.ok && outcome.result && !silent) {
      try {
        const data = jsonBundle(toBundle(outcome.result.value));
        // An empty bundle is a value's way of showing nothing (as a display handle might).
        if (Object.keys(data).length > 0) this.publish(request.header, 'execute_result', { execution_count: count, data, metadata: {} });
        if (storeHistory && typeof data['text/plain'] === 'string') this.history.recordOutput(count, data['text/plain']);
      } catch (e) {
        error = thrownError(e); // The value's own rendering (its Jupyter.display method) failed.
      }
    }
    if (!error) return this.reply(this.shell, request, { status: 'ok', execution_count: count, payload: [], user_expressions: {} });
    if (!silent) this.publish(request.header, 'error', { ...error });
    if (stop_on_error && !silent) this.stopped = { failedCount: count, requests: await this.takeQueuedCells() };
    this.reply(this.shell, request, { status: 'error', execution_count: count, ...error });
  }

  /** `?name`: the documentation goes to the pager (the 'page' payload), as IPython does it. */
  private replyHelp(request: Message, name: string, count: number): void {
    const text = this.runner.inspect(name, name.length);
    if (text === undefined) process.stdout.write(`No documentation found for ${name}: TypeScript knows no such name here.\n`);
    const payload = text === undefined ? [] : [{ source: 'page', data: { 'text/plain': text }, start: 0 }];
    this.reply(this.shell, request, { status: 'ok', execution_count: count, payload, user_expressions: {} });
  }

  /**
   * The cells sent together with one that failed ("Run All"), taken off the queue before the failure
   * is answered. Some may still be in the socket (a synchronous cell kept them from being read), so
   * they get a moment to arrive; a frontend that sends its next cell after the answer (nbclient)
   * never has it taken.
   */
  private async takeQueuedCells(): Promise<Message[]> {
    await new Promise((resolve) => setTimeout(resolve, STRAGGLERS_MS));
    const taken = this.shellQueue.filter((m) => m.header.msg_type === 'execute_request');
    this.shellQueue.splice(0, this.shellQueue.length, ...this.shellQueue.filter((m) => !taken.includes(m)));
    return taken;
  }

  /** As in IPython, cells queued behind a failure are not run; each says why, rather than running on incomplete state. */
  private skip(failedCount: number, requests: Message[]): void {
    const error = notRunError(failedCount);
    for (const request of requests) {
      this.publish(request.header, 'status', { execution_state: 'busy' });
      this.publish(request.header, 'error', { ...error });
      this.reply(this.shell, request, { status: 'error', execution_count: null, ...error });
      this.publish(request.header, 'status', { execution_state: 'idle' });
    }
  }

  private complete(socket: Router, request: Message): void {
    const { code, cursor_pos } = request.content as unknown as CodeRequest;
    const { start, end, matches } = this.runner.complete(code, utf16Offset(code, cursor_pos));
    this.reply(socket, request, {
      status: 'ok',
      matches,
      cursor_start: codePointOffset(code, start),
      cursor_end: codePointOffset(code, end),
      metadata: {},
    });
  }

  private inspect(socket: Router, request: Message): void {
    const { code, cursor_pos } = request.content as unknown as CodeRequest;
    const text = this.runner.inspect(code, utf16Offset(code, cursor_pos));
    this.reply(socket, request, { status: 'ok', found: text !== undefined, data: text === undefined ? {} : { 'text/plain': text }, metadata: {} });
  }

  private output(name: StreamName, text: string): void {
    if (this.outputParent) this.iopub.stream(this.outputParent, name, text);
    else log(`${name} outside any cell: ${text}`);
  }

  private publish(parent: Header, msgType: string, content: Content): void {
    this.iopub.publish(encode(iopubMessage(this.session, parent, msgType, content), this.signer));
  }

  private reply(socket: Router, request: Message, content: Content): void {
    const msgType = request.header.msg_type.replace(/_request$/, '_reply');
    const message: Message = { identities: request.identities, header: newHeader(msgType, this.session), parent_header: request.header, metadata: {}, content, buffers: [] };
    socket.send(encode(message, this.signer)).catch((e: Error) => log(`could not send ${msgType}: ${e.message}`));
  }

  private async shutdown(): Promise<void> {
    this.streams.restore();
    setDisplaySink(null);
    setClearHandler(undefined);
    this.runner.close();
    this.shell.close();
    this.control.close();
    await this.iopub.close();
    this.resolveClosed();
  }
}

function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
