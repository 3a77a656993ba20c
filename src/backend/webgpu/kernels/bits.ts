// Float32 bit patterns for kernel parameter words.
const view = new DataView(new ArrayBuffer(4));

export function f32Bits(x: number): number {
  view.setFloat32(0, x, true);
  return view.getUint32(0, true);
}
