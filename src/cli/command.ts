// The shape of a CLI command: its usage line, its flags (node:util parseArgs), and what it runs.
import type { ParseArgsConfig } from 'node:util';

export interface Command {
  /** One line for the command list. */
  summary: string;
  /** e.g. "llamascope tensor FILE NAME [--rows A:B] [--json]" */
  usage: string;
  /** Exact number of positionals, or [min, max]. */
  positionals: number | [number, number];
  options: NonNullable<ParseArgsConfig['options']>;
  /** Returns the process exit code. */
  run(positionals: string[], flags: Record<string, string | boolean | undefined>): Promise<number> | number;
}
