// Reading a range of an open file into the WASM heap, one part per call, so that the thread pool
// reads a tensor on every thread at once: the first write to each page of new memory is a page
// fault in which the OS zeroes it (~13 us a 4 KiB page on the VMs we measured, a 1 GiB file read
// 3.2 s on one thread, 1.8 s on two). Plain JavaScript: the workers load it without a TypeScript
// loader. Called like a kernel: (...int32 arguments, part, parts).
'use strict';
const fs = require('node:fs');

/** Parts start at multiples of this (whole pages, and reads of a useful size). */
const ALIGN = 1 << 16;

/**
 * Part `part` of `parts` of bytes [position, position + bytes) of file descriptor `fd` written
 * at heap offset `dest` of `memory`; position = positionHigh * 2^32 + positionLow (unsigned),
 * dest and bytes unsigned.
 */
function readFilePart(memory, fd, positionLow, positionHigh, dest, bytes, part, parts) {
  const total = bytes >>> 0;
  const per = Math.ceil(total / parts / ALIGN) * ALIGN;
  const start = Math.min(total, part * per);
  const end = Math.min(total, start + per);
  const position = positionHigh * 2 ** 32 + (positionLow >>> 0);
  const target = new Uint8Array(memory.buffer, (dest >>> 0) + start, end - start);
  for (let done = 0; done < target.length; ) {
    const n = fs.readSync(fd, target, done, target.length - done, position + start + done);
    if (n === 0) throw new Error(`the file ended ${position + start + done} bytes in, before the ${total} bytes from ${position} were read`);
    done += n;
  }
}

module.exports = { readFilePart };
