import { openGGUF } from '../gguf';
import { hexdump as dump } from '../inspect/hexdump';
import type { Command } from './command';
import { UsageError } from './format';

export const hexdump: Command = {
  summary: 'bytes of any range of the file, each line naming the tensor and block it belongs to',
  usage: 'llamascope hexdump FILE (--offset N | --tensor NAME) [--length L]',
  positionals: 1,
  options: { offset: { type: 'string' }, tensor: { type: 'string' }, length: { type: 'string' } },
  run([path], flags) {
    const file = openGGUF(path, { strict: false });
    try {
      const length = flags.length === undefined ? 128 : Number(flags.length);
      let offset: number;
      if (flags.tensor !== undefined) offset = file.tensor(String(flags.tensor)).offset;
      else if (flags.offset !== undefined) offset = Number(flags.offset);
      else throw new UsageError('give --offset N or --tensor NAME');
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
        throw new UsageError(`--offset and --length must be non-negative integers`);
      }
      console.log(dump(file, offset, length));
      return 0;
    } finally {
      file.close();
    }
  },
};
