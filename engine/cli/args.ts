// Argument parsing shared by the commands: node's parseArgs with errors that name the option, and number checks.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EngineError } from '../errors';

/** A wrong or missing option or argument (code `usage`, exit status 2). */
export class UsageError extends EngineError {
  constructor(message: string) {
    super('usage', message);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseCommand<O extends Options>(command: string, args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${command}: ${(e as Error).message}`);
  }
}

/** A whole number from an option's text, within [min, max]; undefined when the option is absent. */
export function intOption(name: string, text: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!Number.isInteger(v) || v < min || v > max)
    throw new UsageError(`--${name} must be an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''} (got "${text}")`);
  return v;
}

export function numberOption(name: string, text: string | undefined, min: number, exclusiveMin = true): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!Number.isFinite(v) || (exclusiveMin ? v <= min : v < min))
    throw new UsageError(`--${name} must be a number ${exclusiveMin ? 'above' : 'from'} ${min} (got "${text}")`);
  return v;
}

export function choiceOption<T extends string>(name: string, text: string | undefined, choices: readonly T[]): T | undefined {
  if (text === undefined) return undefined;
  if (!(choices as readonly string[]).includes(text)) throw new UsageError(`--${name} must be one of ${choices.join(', ')} (got "${text}")`);
  return text as T;
}
