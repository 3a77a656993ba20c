// Text that grows in one output as it is produced — generated tokens, most of all. In a notebook
// the output is replaced in place (throttled, like progress bars); the HTML can shade alternate
// tokens so their boundaries show. Outside a notebook the pieces go straight to stdout, as a
// terminal user expects of generation.

import { DISPLAY, display, hasNotebookSink, type DisplayHandle, type Displayable, type MimeBundle } from './display';
import { escapeHtml } from './format';

export interface TextStreamOptions {
  /** Shown first, in bold (the prompt the text continues). */
  prompt?: string;
  /** Shade every other piece so token boundaries are visible (default false). */
  showTokens?: boolean;
  /** Least time between two updates in a notebook (default 100 ms). */
  minIntervalMs?: number;
  /** Clock in milliseconds (default performance.now); tests pass a fake one. */
  now?: () => number;
}

export class TextStream implements Displayable {
  private readonly pieces: string[] = [];
  private ended = false;
  private lastShown: number;
  private readonly now: () => number;
  /** undefined outside a notebook: pieces are written to stdout instead. */
  private readonly handle: DisplayHandle | undefined;

  constructor(private readonly options: TextStreamOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.lastShown = this.now();
    if (hasNotebookSink()) this.handle = display(this);
    else if (options.prompt) process.stdout.write(options.prompt);
  }

  /** Everything written so far. */
  get text(): string {
    return this.pieces.join('');
  }

  /** Append one piece (a token's text). */
  write(piece: string): void {
    if (this.ended) throw new Error('this text stream has ended; start a new one with textStream()');
    this.pieces.push(piece);
    if (!this.handle) {
      process.stdout.write(piece);
      return;
    }
    const now = this.now();
    if (now - this.lastShown >= (this.options.minIntervalMs ?? 100)) {
      this.lastShown = now;
      this.handle.update(this);
    }
  }

  /** Show the whole text (the cursor goes away). Writing afterwards is an error. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.handle) this.handle.update(this);
    else process.stdout.write('\n');
  }

  [DISPLAY](): MimeBundle {
    const prompt = this.options.prompt ?? '';
    const shade = (piece: string, i: number) =>
      this.options.showTokens ? `<span style="background:${i % 2 ? '#dbeafe' : '#fef3c7'}">${escapeHtml(piece)}</span>` : escapeHtml(piece);
    const cursor = this.ended ? '' : '<span style="color:#9ca3af">▌</span>';
    const html = `<pre class="llamascope-stream" data-state="${this.ended ? 'ended' : 'running'}" style="white-space:pre-wrap;word-break:break-word">${
      prompt ? `<b>${escapeHtml(prompt)}</b>` : ''
    }${this.pieces.map(shade).join('')}${cursor}</pre>`;
    return { 'text/html': html, 'text/plain': prompt + this.text };
  }
}

/** A new stream, shown at once: `const out = textStream({ prompt }); out.write(piece); …; out.end()`. */
export function textStream(options: TextStreamOptions = {}): TextStream {
  return new TextStream(options);
}
