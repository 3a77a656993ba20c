// The WebAssembly JS API as Node provides it (the project's lib setting leaves out the DOM
// typings where TypeScript declares it): only what the CPU fast path uses.
declare global {
  namespace WebAssembly {
    class Module {
      constructor(bytes: Uint8Array);
      static exports(module: Module): { name: string; kind: string }[];
    }
    class Instance {
      constructor(module: Module, imports: Record<string, Record<string, unknown>>);
      readonly exports: Record<string, unknown>;
    }
    class Memory {
      constructor(descriptor: { initial: number; maximum?: number; shared?: boolean });
      readonly buffer: ArrayBuffer | SharedArrayBuffer;
      grow(pages: number): number;
    }
    class Global {
      value: number;
    }
    function validate(bytes: Uint8Array): boolean;
  }
}
export {};
