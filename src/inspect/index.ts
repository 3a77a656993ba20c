export { blockTable, type BlockTableOptions } from './blocks';
export { tensorStats, histogram, type TensorStats, type Histogram } from './stats';
export { hexdump, hexdumpLines, type HexdumpLine } from './hexdump';
export { tensorNdarray } from './ndarray';
