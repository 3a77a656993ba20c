// y = x W^T for a weight [out, in] of any dtype, reading W one row at a time from its blocks
// (never an f32 copy of the whole weight). In llama.cpp emulation each activation row is first
// rounded through the activation type ggml's CPU backend quantizes it to (Q8_0, Q8_1, Q8_K, F16),
// and for the weight types in GGML_LINEAR (ggml-dot.ts) the dot products round as ggml's x86
// kernels do; for the others the float64 dot of the dequantized operands stands in for ggml's
// block-wise integer dot (equal to within float32 rounding).
import { typeByName, type GGMLTypeInfo } from '../../../quant/types';
import { GGML_LINEAR } from './ggml-dot';

export function linear(
  x: Float32Array,
  rows: number,
  width: number,
  weight: Float32Array | Uint8Array,
  weightType: GGMLTypeInfo | null,
  outFeatures: number,
  activationType: string | null,
  out: Float32Array,
): void {
  const kernel = weightType ? GGML_LINEAR[weightType.name] : activationType === 'F32' ? GGML_LINEAR.F32 : undefined;
  if (kernel && activationType === kernel.activation && kernel.applies(outFeatures)) {
    return kernel.run(x, rows, width, weight as Uint8Array, outFeatures, out);
  }
  const acts = activationType && activationType !== 'F32' ? roundActivations(x, rows, width, activationType) : x;
  const wRow = new Float32Array(width);
  const rowBytes = weightType ? (width / weightType.blockSize) * weightType.typeSize : 0;
  for (let o = 0; o < outFeatures; o++) {
    let w: Float32Array;
    if (weightType) {
      weightType.codec!.dequantize((weight as Uint8Array).subarray(o * rowBytes, (o + 1) * rowBytes), wRow);
      w = wRow;
    } else {
      w = (weight as Float32Array).subarray(o * width, (o + 1) * width);
    }
    for (let r = 0; r < rows; r++) {
      const base = r * width;
      let acc = 0;
      for (let i = 0; i < width; i++) acc += acts[base + i] * w[i];
      out[r * outFeatures + o] = acc;
    }
  }
}

function roundActivations(x: Float32Array, rows: number, width: number, typeName: string): Float32Array {
  const type = typeByName(typeName);
  if (!type?.codec) throw new Error(`unknown activation type ${typeName}`);
  if (width % type.blockSize !== 0) throw new Error(`activation rows of ${width} are not whole ${type.name} blocks`);
  const bytes = new Uint8Array((width / type.blockSize) * type.typeSize);
  const out = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) {
    type.codec.quantize(x.subarray(r * width, (r + 1) * width), bytes);
    type.codec.dequantize(bytes, out.subarray(r * width, (r + 1) * width));
  }
  return out;
}
