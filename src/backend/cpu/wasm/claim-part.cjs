// Claiming a part of a job (threads.ts explains the protocol), shared by the calling thread and
// the workers. Plain JavaScript so that workers load it without a TypeScript loader.
'use strict';

/** Low bits of the claim counter count parts; the bits above hold the job's number. */
const PART_BITS = 12;
const MAX_PARTS = 1 << PART_BITS;
const JOB_MASK = (1 << (31 - PART_BITS)) - 1;

/**
 * The next unclaimed part of job `job` from the counter `ctl[index]`, or -1 when its `parts` are
 * all taken or the counter has moved on to a later job (a late thread must not run that job's
 * parts with what it read of this one).
 */
function claimPart(ctl, index, job, parts) {
  for (;;) {
    const next = Atomics.load(ctl, index);
    const part = next & (MAX_PARTS - 1);
    if (next >>> PART_BITS !== job || part >= parts) return -1;
    if (Atomics.compareExchange(ctl, index, next, next + 1) === next) return part;
  }
}

/** The counter's value when job `job` is posted: none of its parts claimed. */
function firstClaim(job) {
  return job << PART_BITS;
}

/**
 * The counter's value while job `job` is being written: no part of it or of any earlier job can
 * be claimed (a late thread may be reading the new job's part count with the old job's number).
 */
function closedClaim(job) {
  return (job << PART_BITS) | (MAX_PARTS - 1);
}

module.exports = { MAX_PARTS, JOB_MASK, claimPart, firstClaim, closedClaim };
