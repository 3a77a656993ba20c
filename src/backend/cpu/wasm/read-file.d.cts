export function readFilePart(memory: WebAssembly.Memory, fd: number, positionLow: number, positionHigh: number, dest: number, bytes: number, part: number, parts: number): void;
