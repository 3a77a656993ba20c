// `llamascope COMMAND ...`: thin commands over the same library calls the notebooks use.
import { parseArgs } from 'node:util';
import { GGUFError } from '../gguf';
import type { Command } from './command';
import { UsageError } from './format';
import { inspect } from './inspect';
import { tensor } from './tensor';
import { blocks } from './blocks';
import { quantize } from './quantize';
import { hexdump } from './hexdump';
import { doctor } from './doctor';
import { weights } from './weights';
import { scales } from './scales';
import { quantErrorCommand } from './quant-error';
import { tokenize } from './tokenize';
import { synth } from './synth';
import { kernel } from './kernel';
import { logits } from './logits';
import { generate } from './generate';
import { perplexity } from './perplexity';
import { trace } from './trace';
import { compare } from './compare';
import { bench } from './bench';

const COMMANDS: Record<string, Command> = { inspect, tensor, blocks, quantize, hexdump, tokenize, logits, generate, perplexity, trace, compare, bench, synth, doctor, weights, scales, 'quant-error': quantErrorCommand, kernel };

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [
    'llamascope: look inside LLaMA-family GGUF models',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}\n  ${' '.repeat(width)}  ${c.usage}`),
    '',
    'Run `llamascope COMMAND --help` for one command.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`llamascope: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  try {
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(`${command.usage}\n\n${command.summary}`);
      return 0;
    }
    const { values, positionals } = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
    const [min, max] = typeof command.positionals === 'number' ? [command.positionals, command.positionals] : command.positionals;
    if (positionals.length < min || positionals.length > max) throw new UsageError(`expected ${min === max ? min : `${min} to ${max}`} arguments, got ${positionals.length}`);
    return await command.run(positionals, values as Record<string, string | boolean | undefined>);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`llamascope ${name}: ${(e as Error).message}\nusage: ${command.usage}`);
      return 2;
    }
    if (e instanceof GGUFError) {
      console.error(`invalid GGUF: ${e.message}`);
      return 1;
    }
    console.error(`llamascope ${name}: ${(e as Error).message}`);
    return 1;
  }
}
