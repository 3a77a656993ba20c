import { GGUFError, openGGUF, valueTypeName, GGUFValueType, type GGUFFile } from '../gguf';
import type { Command } from './command';
import { preview, table, toJson } from './format';

export const inspect: Command = {
  summary: 'metadata, tensor table and validation of a GGUF file',
  usage: 'llamascope inspect FILE [--json]',
  positionals: 1,
  options: { json: { type: 'boolean' } },
  run([path], { json }) {
    let file: GGUFFile;
    try {
      file = openGGUF(path, { strict: false });
    } catch (e) {
      if (!(e instanceof GGUFError)) throw e;
      // Header or metadata broken: nothing else can be listed.
      if (json) console.log(toJson({ file: path, valid: false, problems: [problemJson(e)] }));
      console.error(`invalid GGUF: ${e.message}`);
      return 1;
    }
    try {
      const tensors = file.tensors.map((t) => ({
        name: t.name,
        type: t.type.name,
        shape: t.shape,
        offset: t.offset,
        bytes: t.nBytes,
      }));
      const valid = file.problems.length === 0;
      if (json) {
        const metadata = Object.fromEntries(
          [...file.metadata].map(([k, v]) => [k, { type: typeLabel(v.type, v.value), value: file.get(k) }]),
        );
        console.log(
          toJson({
            file: path,
            valid,
            version: file.version,
            fileSize: file.fileSize,
            alignment: file.alignment,
            dataOffset: file.dataOffset,
            metadata,
            tensors,
            problems: file.problems.map(problemJson),
          }),
        );
      } else {
        console.log(`${path}: GGUF v${file.version}, ${file.fileSize} bytes, ${file.metadata.size} metadata keys, ${file.tensors.length} tensors, alignment ${file.alignment}, data at ${file.dataOffset}\n`);
        console.log(table(['key', 'type', 'value'], [...file.metadata].map(([k, v]) => [k, typeLabel(v.type, v.value), preview(file.get(k))])));
        console.log();
        console.log(table(['name', 'type', 'shape', 'offset', 'bytes'], tensors.map((t) => [t.name, t.type, `[${t.shape.join(', ')}]`, t.offset, t.bytes])));
        console.log();
        if (valid) console.log('valid: every tensor is inside the file, aligned, sized for its type and shape, with no overlap');
      }
      for (const p of file.problems) console.error(`invalid GGUF: ${p.message}`);
      return valid ? 0 : 1;
    } finally {
      file.close();
    }
  },
};

function typeLabel(type: GGUFValueType, value: unknown): string {
  if (type !== GGUFValueType.ARRAY) return valueTypeName(type);
  const arr = value as { itemType: GGUFValueType; items: ArrayLike<unknown> };
  return `array<${valueTypeName(arr.itemType)}>[${arr.items.length}]`;
}

function problemJson(e: GGUFError) {
  return { code: e.code, message: e.message, ...e.details };
}
