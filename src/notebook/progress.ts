// A progress bar that updates one output in place (model loading, generation, perplexity).
//
// Updates are throttled: a loop may call `advance` 10,000 times a second, but the output changes
// at most once per `minIntervalMs` — plus once on reaching the total and once for the final state,
// so the last thing shown is always exact. Outside a notebook the default display sink prints each
// update as a line on stderr, so the interval is longer there.

import { DISPLAY, display, hasNotebookSink, type DisplayHandle, type Displayable, type MimeBundle } from './display';
import { escapeHtml, formatCount, formatDuration, formatNumber } from './format';

export interface ProgressOptions {
  /** Steps to do; leave out when unknown (a counter is shown instead of a bar). */
  total?: number;
  label?: string;
  /** What a step is, e.g. 'tok' (default 'it'). */
  unit?: string;
  /** Least time between two updates: default 100 ms in a notebook, 1 s elsewhere. */
  minIntervalMs?: number;
  /** Clock in milliseconds (default performance.now); tests pass a fake one. */
  now?: () => number;
}

type State = 'running' | 'finished' | 'stopped';

const BAR_WIDTH = 24;
const EIGHTHS = ' ▏▎▍▌▋▊▉';
const COLOURS: Record<State, string> = { running: '#3b82f6', finished: '#16a34a', stopped: '#d97706' };

export class ProgressBar implements Displayable {
  private count = 0;
  private state: State = 'running';
  private readonly started: number;
  private elapsedMs = 0;
  private lastShown: number;
  private readonly minIntervalMs: number;
  private readonly now: () => number;
  private readonly handle: DisplayHandle;

  /** Shows the bar at 0 right away. */
  constructor(private readonly options: ProgressOptions = {}) {
    const { total } = options;
    if (total !== undefined && !(Number.isFinite(total) && total >= 0)) throw new Error(`total must be a number ≥ 0 (or left out when unknown), got ${total}`);
    this.now = options.now ?? (() => performance.now());
    this.minIntervalMs = options.minIntervalMs ?? (hasNotebookSink() ? 100 : 1000);
    this.started = this.lastShown = this.now();
    this.handle = display(this);
  }

  /** Steps done so far. */
  get value(): number {
    return this.count;
  }

  advance(steps = 1): void {
    this.set(this.count + steps);
  }

  /** Set the steps done. Ignored once finished or stopped: a progress bar never breaks the work it shows. */
  set(done: number): void {
    if (this.state !== 'running') return;
    this.count = done;
    const now = this.now();
    const reachedTotal = this.options.total !== undefined && done >= this.options.total;
    if (reachedTotal || now - this.lastShown >= this.minIntervalMs) this.show(now);
  }

  /** Final state: done (the bar turns green). */
  finish(): void {
    this.end('finished');
  }

  /** Final state: stopped before the end (break, error); the bar turns amber and keeps its count. */
  stop(): void {
    this.end('stopped');
  }

  private end(state: State): void {
    if (this.state !== 'running') return;
    this.state = state;
    this.show(this.now());
  }

  private show(now: number): void {
    this.lastShown = now;
    this.elapsedMs = now - this.started;
    this.handle.update(this);
  }

  [DISPLAY](): MimeBundle {
    const { total, label } = this.options;
    const unit = this.options.unit ?? 'it';
    const seconds = this.elapsedMs / 1000;
    const rate = seconds > 0 ? this.count / seconds : NaN;
    const fraction = total === undefined ? undefined : total === 0 ? 1 : Math.min(1, this.count / total);
    const counted = total === undefined ? `${formatCount(this.count)} ${unit}` : `${formatCount(this.count)}/${formatCount(total)} ${unit}`;
    const remaining = fraction !== undefined && this.state === 'running' && rate > 0 ? `<${formatDuration((total! - this.count) / rate)}` : '';
    const timing = `${formatDuration(seconds)}${remaining}, ${Number.isFinite(rate) ? formatNumber(rate, 3) : '?'} ${unit}/s`;
    const ending = this.state === 'running' ? '' : ` ${this.state === 'finished' ? 'done' : 'stopped'}`;
    const percent = fraction === undefined ? '' : `${Math.floor(fraction * 100)}%`;

    const text = [label, percent, fraction === undefined ? '' : `|${textBar(fraction)}|`, `${counted} [${timing}]${ending}`].filter(Boolean).join(' ');
    const bar =
      fraction === undefined
        ? ''
        : `<div style="width:16em;height:0.9em;background:#e5e7eb;border-radius:3px;overflow:hidden"><div class="llamascope-progress-fill" style="width:${(fraction * 100).toFixed(1)}%;height:100%;background:${COLOURS[this.state]}"></div></div>`;
    const html = `<div class="llamascope-progress" data-state="${this.state}" style="display:flex;gap:0.6em;align-items:center;font-family:monospace">${
      label ? `<span>${escapeHtml(label)}</span>` : ''
    }${percent ? `<span>${percent}</span>` : ''}${bar}<span>${escapeHtml(`${counted} [${timing}]${ending}`)}</span></div>`;
    return { 'text/html': html, 'text/plain': text };
  }
}

/** A progress bar over `total` steps (or one with options); shown at once. */
export function progress(options: ProgressOptions | number = {}): ProgressBar {
  return new ProgressBar(typeof options === 'number' ? { total: options } : options);
}

/**
 * The items of `items`, advancing a bar as each is consumed: `for (const x of track(xs)) …`. The
 * total is the array's length unless given; the bar finishes after the last item, or shows
 * "stopped" if the loop ends early (break or error).
 */
export function* track<T>(items: Iterable<T>, options: ProgressOptions = {}): Generator<T, void, undefined> {
  const total = options.total ?? (Array.isArray(items) || ArrayBuffer.isView(items) ? (items as ArrayLike<T>).length : undefined);
  const bar = new ProgressBar({ ...options, total });
  try {
    for (const item of items) {
      yield item;
      bar.advance();
    }
    bar.finish();
  } finally {
    bar.stop(); // no-op after finish
  }
}

function textBar(fraction: number): string {
  const eighths = Math.round(fraction * BAR_WIDTH * 8);
  const full = Math.floor(eighths / 8);
  const partial = eighths % 8 ? EIGHTHS[eighths % 8] : '';
  return ('█'.repeat(full) + partial).padEnd(BAR_WIDTH, ' ');
}
