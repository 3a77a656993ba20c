import { strict as assert } from 'node:assert';
import { ProgressBar, progress, setDisplaySink, track, type DisplayMessage } from '../src/notebook';
import { captureDisplays } from './helpers/notebook-sink';

const text = (m: DisplayMessage) => m.bundle['text/plain'] as string;
const html = (m: DisplayMessage) => m.bundle['text/html'] as string;

/** A clock that moves `step` ms each time it is read. */
function fakeClock(step: number): () => number {
  let t = 0;
  return () => (t += step);
}

describe('notebook progress bars', () => {
  it('10,000 steps in 0.5 s: a handful of in-place updates, and the final state exact', () => {
    const capture = captureDisplays();
    try {
      const bar = progress({ total: 10_000, label: 'perplexity', unit: 'tok', now: fakeClock(0.05) });
      for (let i = 0; i < 10_000; i++) bar.advance();
      bar.finish();
      const m = capture.messages;
      // Shown at 0, then at most once per 100 ms (5 in 500 ms), on reaching the total, and finished.
      assert.ok(m.length >= 6 && m.length <= 8, `${m.length} messages`);
      assert.equal(m[0].update, false);
      assert.ok(m.slice(1).every((x) => x.update && x.displayId === m[0].displayId), 'updates replace the first output');
      assert.match(text(m[0]), /^perplexity 0% \| {24}\| 0\/10,000 tok \[00:00, (0|\?) tok\/s\]$/);
      assert.match(text(m[m.length - 1]), /^perplexity 100% \|█{24}\| 10,000\/10,000 tok \[00:01, 20000 tok\/s\] done$/);
      assert.match(html(m[m.length - 1]), /data-state="finished"/);
      assert.match(html(m[m.length - 1]), /width:100\.0%/);
      assert.equal(bar.value, 10_000);
    } finally {
      capture.restore();
    }
  });

  it('with the real clock, a tight loop of 10,000 steps sends only a few updates', () => {
    const capture = captureDisplays();
    try {
      const started = performance.now();
      const bar = progress(10_000);
      for (let i = 0; i < 10_000; i++) bar.advance();
      bar.finish();
      const elapsed = performance.now() - started;
      assert.ok(capture.messages.length <= 3 + Math.ceil(elapsed / 100), `${capture.messages.length} messages in ${elapsed} ms`);
      assert.match(text(capture.messages[capture.messages.length - 1]), /100% .* 10,000\/10,000 it .* done$/);
    } finally {
      capture.restore();
    }
  });

  it('half way: half the bar, the rate, and the time left', () => {
    const capture = captureDisplays();
    try {
      const bar = new ProgressBar({ total: 200, now: fakeClock(1000), minIntervalMs: 0 });
      bar.set(100);
      const half = capture.messages[capture.messages.length - 1];
      // Started at t=1 s, set at t=2 s: 100 it in 1 s, 100 to go at 100 it/s.
      assert.equal(text(half), `50% |${'█'.repeat(12)}${' '.repeat(12)}| 100/200 it [00:01<00:01, 100 it/s]`);
      assert.match(html(half), /width:50\.0%/);
      assert.match(html(half), /data-state="running"/);
    } finally {
      capture.restore();
    }
  });

  it('an unknown total counts; a finished bar ignores later steps', () => {
    const capture = captureDisplays();
    try {
      const bar = progress({ label: 'load', unit: 'tensor', now: fakeClock(10), minIntervalMs: 0 });
      for (let i = 0; i < 57; i++) bar.advance();
      bar.finish();
      const sent = capture.messages.length;
      bar.advance();
      bar.finish();
      bar.stop();
      assert.equal(capture.messages.length, sent);
      // Clock read at 10 ms (start), 20…580 (steps), 590 (finish): 57 in 0.58 s.
      assert.match(text(capture.messages[sent - 1]), /^load 57 tensor \[00:01, 98\.3 tensor\/s\] done$/);
      assert.doesNotMatch(html(capture.messages[sent - 1]), /llamascope-progress-fill/);
    } finally {
      capture.restore();
    }
  });

  it('track(): total from the array, finished at the end, stopped on break or error', () => {
    const capture = captureDisplays();
    try {
      const seen: number[] = [];
      for (const x of track([1, 2, 3], { minIntervalMs: 0 })) seen.push(x);
      assert.deepEqual(seen, [1, 2, 3]);
      assert.match(text(capture.messages[capture.messages.length - 1]), /100% .* 3\/3 it .* done$/);

      for (const x of track([1, 2, 3, 4], { minIntervalMs: 0 })) if (x === 2) break;
      assert.match(text(capture.messages[capture.messages.length - 1]), /25% .* 1\/4 it .* stopped$/);

      assert.throws(() => {
        for (const x of track(new Set(['a', 'b']), { label: 'gen', minIntervalMs: 0 })) if (x === 'b') throw new Error('boom');
      }, /boom/);
      const last = capture.messages[capture.messages.length - 1];
      assert.match(text(last), /^gen 1 it .* stopped$/);
      assert.match(html(last), /data-state="stopped"/);
    } finally {
      capture.restore();
    }
  });

  it('outside a notebook it prints lines to stderr, at most one a second, and the final state', () => {
    setDisplaySink(null);
    const written: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      const bar = progress({ total: 1000, label: 'quantize', now: fakeClock(1) }); // 1 s in all
      for (let i = 0; i < 1000; i++) bar.advance();
      bar.finish();
    } finally {
      process.stderr.write = write;
    }
    assert.ok(written.length >= 3 && written.length <= 4, written.join(''));
    assert.match(written[0], /^quantize 0% /);
    assert.match(written[written.length - 1], /^quantize 100% .* 1,000\/1,000 it .* done\n$/);
  });

  it('refuses a total that is not a count', () => {
    assert.throws(() => progress(NaN), /total must be a number ≥ 0/);
  });
});
