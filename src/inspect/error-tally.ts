// The arithmetic every comparison of values shares (ours against a llama-eval-callback dump, one
// trace against another): largest difference, relative error of the whole, and the first value
// beyond what the comparison allows.
import type { NodeIndex } from './eval-callback';

export interface ElementDivergence {
  /** Where the value sits, innermost dimension first as llama.cpp prints it: [i0, i1, i2, i3]. */
  index: NodeIndex;
  /** Position in the contiguous array. */
  flatIndex: number;
  expected: number;
  actual: number;
  absError: number;
  /**
   * absError / |expected|, with |expected| floored at the print resolution for a dump and at the
   * reference activation's RMS for a trace.
   */
  relativeError: number;
}

/** Feed it expected/actual pairs in order; read the totals after. */
export class ErrorTally {
  compared = 0;
  maxAbsError = 0;
  divergentCount = 0;
  /** The first pair beyond its allowed difference. */
  firstDivergence?: ElementDivergence;
  private errorSq = 0;
  private expectedSq = 0;

  /**
   * One pair. `allowed`: the largest difference still counted as equal; `scale`: what the element's
   * relativeError is relative to; `index` is only asked for the first divergence.
   */
  add(expected: number, actual: number, allowed: number, scale: number, flatIndex: number, index: () => NodeIndex): void {
    this.compared++;
    const same = Object.is(actual, expected) || (Number.isNaN(actual) && Number.isNaN(expected));
    const absError = same ? 0 : Math.abs(actual - expected);
    if (!same && !(absError <= allowed)) {
      this.divergentCount++;
      this.firstDivergence ??= { index: index(), flatIndex, expected, actual, absError, relativeError: absError / scale };
    }
    if (Number.isFinite(absError)) {
      this.maxAbsError = Math.max(this.maxAbsError, absError);
      this.errorSq += absError * absError;
    } else {
      this.maxAbsError = Infinity; // a NaN or infinity where the other side has none
      this.errorSq = Infinity;
    }
    if (Number.isFinite(expected)) this.expectedSq += expected * expected;
  }

  /** ‖actual − expected‖ / ‖expected‖ (0 when equal; Infinity when one side has a NaN or infinity the other has not). */
  get relativeError(): number {
    return this.errorSq === 0 ? 0 : Math.sqrt(this.errorSq) / Math.sqrt(this.expectedSq);
  }
}
