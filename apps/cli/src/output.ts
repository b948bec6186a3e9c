import { ConsoleLogger, LogLevel } from '@nestjs/common';

/** Human messages go to stderr so stdout stays parseable (keys, JSON). */
export function say(line: string): void {
  process.stderr.write(line + '\n');
}

/** A result on stdout: JSON when `json`, else the human lines. */
export function emit(json: boolean | undefined, value: unknown, human: () => string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : human());
}

let verbose = false;
/** `--verbose` (global option): info logs too; default warn and above. */
export function setVerbose(v: boolean): void {
  verbose = v;
}

/** Log levels of the CLI's Nest context: warn and above, everything with --verbose. */
export function cliLogLevels(): LogLevel[] {
  return verbose ? ['fatal', 'error', 'warn', 'log', 'debug'] : ['fatal', 'error', 'warn'];
}

/**
 * Nest's console logger on stderr only (stdout carries results alone), coloured only when stderr is
 * a terminal and NO_COLOR is unset.
 */
export class StderrLogger extends ConsoleLogger {
  constructor() {
    super({ logLevels: cliLogLevels(), colors: !!process.stderr.isTTY && !process.env['NO_COLOR'] });
  }

  protected override printMessages(
    messages: unknown[],
    context?: string,
    logLevel?: LogLevel,
    _stream?: 'stdout' | 'stderr',
    errorStack?: unknown,
  ): void {
    super.printMessages(messages, context, logLevel, 'stderr', errorStack);
  }
}
