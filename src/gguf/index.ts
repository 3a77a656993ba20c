export { openGGUF, type OpenOptions } from './reader';
export { GGUFFile, type GGUFTensorInfo, type FileRegion } from './file';
export { GGUFError, type GGUFErrorCode, type GGUFErrorDetails } from './errors';
export { GGUFValueType, plainValue, valueTypeName, type GGUFArray, type GGUFScalar, type GGUFValue } from './values';
export { writeGGUF, encodeGGUF, meta, type GGUFContents, type TensorToWrite } from './writer';
export { describeSize } from './validate';
export { DEFAULT_ALIGNMENT, alignUp } from './format';
export * as keys from './keys';
