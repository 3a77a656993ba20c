export { Tensor, Node, createdIn, type TensorData } from './tensor';
export { realize } from './schedule';
export { TensorError } from './errors';
export { defaultBackend, setDefaultBackend, useBackend, type BackendName } from './device';
export { scope } from './scope';
export type { Backend, DeviceBuffer, Kernel, Expr } from './backend';
export type { DType } from './dtype';
export { View, type Shape, type Movement } from './view';
export type { RopeArgs, SoftmaxArgs, LinearArgs, OpName } from './ops';
