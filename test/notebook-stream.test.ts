import { strict as assert } from 'node:assert';
import { setDisplaySink, textStream } from '../src/notebook';
import { captureDisplays } from './helpers/notebook-sink';

describe('notebook text streams', () => {
  it('in a notebook: one output, updated at most every 100 ms, whole and without cursor at the end', () => {
    const capture = captureDisplays();
    try {
      let t = 0;
      const out = textStream({ prompt: 'Q: 2+2?', showTokens: true, now: () => (t += 10) });
      const pieces = Array.from({ length: 100 }, (_, i) => (i % 7 === 0 ? ' <&>' : ` w${i}`));
      for (const p of pieces) out.write(p);
      out.end();
      out.end(); // a second end changes nothing
      const m = capture.messages;
      assert.ok(m.length >= 10 && m.length <= 12, `${m.length} messages for 100 pieces over 1 s`);
      assert.ok(m.slice(1).every((x) => x.update && x.displayId === m[0].displayId));
      const last = m[m.length - 1];
      assert.equal(last.bundle['text/plain'], 'Q: 2+2?' + pieces.join(''));
      const html = last.bundle['text/html'] as string;
      assert.match(html, /^<pre class="llamascope-stream" data-state="ended"/);
      assert.ok(html.includes('<b>Q: 2+2?</b>'));
      assert.equal(html.match(/<span style="background:/g)?.length, 100, 'one shaded span per piece');
      assert.ok(html.includes('&lt;&amp;&gt;') && !html.includes(' <&>'), 'pieces are escaped');
      assert.ok(!html.includes('▌'), 'no cursor once ended');
      assert.ok((m[1].bundle['text/html'] as string).includes('▌'), 'a cursor while running');
      assert.throws(() => out.write('more'), /has ended; start a new one with textStream\(\)/);
    } finally {
      capture.restore();
    }
  });

  it('outside a notebook: the prompt and each piece go straight to stdout', () => {
    setDisplaySink(null);
    const written: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      const out = textStream({ prompt: 'Once' });
      out.write(' upon');
      out.write(' a time');
      out.end();
      assert.equal(out.text, ' upon a time');
    } finally {
      process.stdout.write = write;
    }
    assert.deepEqual(written, ['Once', ' upon', ' a time', '\n']);
  });
});
