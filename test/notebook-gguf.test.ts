// A GGUF file's notebook rendering against gguf-py's own listing of the same files
// (../shared/models/manllama-6m/references/tensor-types.json).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeGGUF, meta, openGGUF } from '../src/gguf';
import { ggufBundle, toBundle } from '../src/notebook';
import { REFERENCES_DIR, modelPath } from './helpers/references';
import { entryFields, setU64, tinyContents } from './helpers/tiny-gguf';

describe('notebook rendering of GGUF files', () => {
  it('the tensor table lists every tensor with the type gguf-py reads; long arrays are abbreviated', () => {
    const reference = JSON.parse(fs.readFileSync(path.join(REFERENCES_DIR, 'tensor-types.json'), 'utf8'))['manllama-6m-q4_k_m.gguf'] as { tensor_types: Record<string, string> };
    const file = openGGUF(modelPath('q4_k_m'));
    try {
      const bundle = toBundle(file); // the renderer registered for GGUFFile
      assert.deepEqual(bundle, ggufBundle(file));
      const html = bundle['text/html'] as string;
      const tensors = html.slice(html.indexOf('llamascope-gguf-tensors'));
      const rows = [...tensors.matchAll(/<tr><td>\d+<\/td><td style="text-align:left">([^<]+)<\/td><td>([^<]+)<\/td>/g)].map((m) => [m[1], m[2]]);
      assert.deepEqual(Object.fromEntries(rows), reference.tensor_types);
      assert.ok(html.includes('array&lt;string&gt;[2,048]'), 'the vocabulary: type and length');
      assert.match(html, /\[&quot;&lt;unk&gt;&quot;, &quot;&lt;s&gt;&quot;, [^\]]*, … 2,040 more\]/);
      assert.match(bundle['text/plain'] as string, /manllama-6m-q4_k_m\.gguf: GGUF v3, .* 57 tensors \(.*Q4_K ×\d+.*\); valid\narchitecture llama, name "manllama-6m"$/);
    } finally {
      file.close();
    }
  });

  it('escapes what a file says and lists its problems', () => {
    const tiny = tinyContents();
    const bytes = encodeGGUF({ ...tiny, metadata: [...tiny.metadata, ['test.html', meta.str('<img src=x onerror=alert(1)>')]] });
    const good = openGGUF(bytes);
    setU64(bytes, entryFields(good.tensor('c.weight')).offset, 1n << 40n); // c.weight now starts far past the end
    const file = openGGUF(bytes, { strict: false });
    const { 'text/html': html, 'text/plain': text } = ggufBundle(file);
    assert.ok(!(html as string).includes('<img'));
    assert.ok((html as string).includes('&lt;img src=x onerror=alert(1)&gt;'));
    assert.match(html as string, /1 problem\(s\)<\/span>/);
    assert.match(html as string, /<ul style="color:#dc2626"><li>[^<]*c\.weight/);
    assert.match(text as string, /\nproblem: .*c\.weight/);
  });
});
