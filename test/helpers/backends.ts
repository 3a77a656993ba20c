// The backends every tensor-op test runs on. Each must agree with the float64 references.
import type { Backend } from '../../src/tensor';
import { CpuBackend } from '../../src/backend/cpu';

export interface TestBackend {
  name: string;
  /** Resolves to the backend, or rejects with why it is unavailable here. */
  open(): Promise<Backend>;
}

export const TEST_BACKENDS: TestBackend[] = [{ name: 'cpu', open: async () => new CpuBackend() }];
