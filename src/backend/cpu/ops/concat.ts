// Join contiguous inputs along one axis.
export function concat(parts: (Float32Array | Int32Array)[], shapes: (readonly number[])[], axis: number, out: Float32Array | Int32Array): void {
  let outer = 1;
  for (let d = 0; d < axis; d++) outer *= shapes[0][d];
  const chunk = (s: readonly number[]) => s.slice(axis).reduce((a, b) => a * b, 1);
  let o = 0;
  for (let i = 0; i < outer; i++) {
    parts.forEach((p, k) => {
      const c = chunk(shapes[k]);
      out.set(p.subarray(i * c, (i + 1) * c), o);
      o += c;
    });
  }
}
