/** Most parts a job can have, plus one. */
export const MAX_PARTS: number;
/** Job numbers wrap to this mask. */
export const JOB_MASK: number;
export function claimPart(ctl: Int32Array, index: number, job: number, parts: number): number;
export function firstClaim(job: number): number;
export function closedClaim(job: number): number;
