export { blockTable, type BlockTableOptions } from './blocks';
export { tensorStats, histogram, type TensorStats, type Histogram } from './stats';
export { hexdump, hexdumpLines, type HexdumpLine } from './hexdump';
export { tensorNdarray } from './ndarray';
export {
  parseEvalCallback,
  readEvalCallback,
  compareNode,
  compareDump,
  detectSumCoverage,
  printedSumTolerance,
  flatIndex,
  PRINT_RESOLUTION,
  type EvalCallbackDump,
  type EvalCallbackNode,
  type EvalCallbackSource,
  type PrintedValue,
  type NodeIndex,
  type SumCoverage,
  type CompareOptions,
  type NodeComparison,
  type ElementDivergence,
  type SumComparison,
  type DumpComparison,
} from './eval-callback';
export { weightReport, tensorWeightStats, weightRole, type WeightReport, type WeightReportOptions, type TensorWeightStats, type TypicalRange, type WeightObservation, type WeightRole } from './weight-report';
export { blockReport, tokenScaleCorrelation, tokenTypeName, type BlockReport, type BlockReportOptions, type RowScale, type TokenScaleCorrelation, type TokenTypeScales } from './block-report';
export { quantError, WEIGHT_TYPES, type QuantErrorReport, type QuantErrorByType, type QuantErrorOptions } from './quant-error';
export { doctor, formatDoctorReport, describeBlock, type DoctorReport, type DoctorFinding } from './doctor';
export { kvCheck, type KVCheckResult, type KVCheckCell, type KVCheckOptions } from './kv-check';
export { logitLens, residualNorms, attentionPatterns, type LogitLens, type TopToken } from './lens';
export { compareWithDump, type ModelComparison } from './compare';
export { captureTrace, traceOf, traceTable, readTrace, type Trace, type TracedActivation, type TraceOptions } from './trace';
export { compareTraces, compareRuns, type TraceComparison, type HookComparison, type TraceCompareOptions, type TraceSource, type ModelRun } from './trace-compare';
// Speed against llama.cpp, in one run (what `llamascope bench` prints), and the yardsticks it uses.
export { measureSpeed, formatSpeedReports, type SpeedReport, type SpeedOptions } from './speed';
export { measureMemoryBandwidth, formatBandwidth, type MemoryBandwidth } from './memory-bandwidth';
export { weightBytesPerToken } from './weight-traffic';
