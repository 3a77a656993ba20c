// Small hand-made GGUF files for reader, writer and error tests.
import { encodeGGUF, meta, GGUFValueType, openGGUF, type GGUFContents, type GGUFTensorInfo } from '../../src/gguf';

/** Deterministic PRNG (mulberry32) so fuzz and random tests are reproducible from a seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(n: number, next: () => number): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
}

/** A small file with every metadata value type and three tensors of different types. */
export function tinyContents(): GGUFContents {
  const next = rng(1);
  return {
    metadata: [
      ['general.architecture', meta.str('llama')],
      ['general.name', meta.str('tiny ✓ ünïcode')],
      ['test.u8', meta.u8(200)],
      ['test.i8', meta.i8(-100)],
      ['test.u16', meta.u16(65000)],
      ['test.i16', meta.i16(-32000)],
      ['test.u32', meta.u32(4000000000)],
      ['test.i32', meta.i32(-2000000000)],
      ['test.f32', meta.f32(Math.fround(1e-5))],
      ['test.bool', meta.bool(true)],
      ['test.u64', meta.u64(2n ** 63n + 5n)],
      ['test.i64', meta.i64(-(2n ** 62n))],
      ['test.f64', meta.f64(Math.PI)],
      ['test.strings', meta.strings(['a', '', 'β', '<0x0A>'])],
      ['test.f32s', meta.f32s([0, -1.5, 3])],
      ['test.bools', meta.array(GGUFValueType.BOOL, [true, false, true])],
      ['test.empty', meta.array(GGUFValueType.INT32, new Int32Array(0))],
      [
        'test.nested',
        meta.array(GGUFValueType.ARRAY, [
          { itemType: GGUFValueType.UINT16, items: Uint16Array.from([1, 2]) },
          { itemType: GGUFValueType.STRING, items: ['x'] },
        ]),
      ],
    ],
    tensors: [
      { name: 'a.weight', type: 'F32', shape: [4, 3], data: new Uint8Array(Float32Array.from({ length: 12 }, (_, i) => i - 6).buffer) },
      { name: 'b.weight', type: 'F16', shape: [7], data: randomBytes(14, next) },
      { name: 'c.weight', type: 'Q8_0', shape: [64, 2], data: randomBytes(4 * 34, next) },
    ],
  };
}

export function tinyFile(): Uint8Array {
  return encodeGGUF(tinyContents());
}

/** Byte offsets of the fields of a tensor's directory entry, for patching hand-made bad files. */
export function entryFields(t: GGUFTensorInfo): { nDims: number; dims: number[]; type: number; offset: number } {
  const nameLen = new TextEncoder().encode(t.name).length;
  const nDims = t.infoOffset + 8 + nameLen;
  const dims = t.ne.map((_, i) => nDims + 4 + 8 * i);
  const type = nDims + 4 + 8 * t.ne.length;
  return { nDims, dims, type, offset: type + 4 };
}

export function tensorInfo(bytes: Uint8Array, name: string): GGUFTensorInfo {
  const f = openGGUF(bytes, { strict: false });
  return f.tensor(name);
}

export function setU32(bytes: Uint8Array, at: number, v: number): void {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, v, true);
}

export function setU64(bytes: Uint8Array, at: number, v: bigint): void {
  new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(at, v, true);
}
