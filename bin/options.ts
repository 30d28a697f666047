import { usageError } from './errors.js';

/** Options as node:util parseArgs returns them for string-typed options. */
export type Values = Record<string, string | boolean | undefined>;

export function required(values: Values, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw usageError(`--${name} is required`);
  return v;
}

export function optionalString(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function numberOption(values: Values, name: string, min: number, max: number, integer = false): number | undefined {
  const text = optionalString(values, name);
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw usageError(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got "${text}"`);
  }
  return v;
}

export function listOption(values: Values, name: string): string[] | undefined {
  const text = optionalString(values, name);
  if (text === undefined) return undefined;
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) throw usageError(`--${name} needs a comma-separated list of column names`);
  return list;
}

/** One of `choices`; `aliases` maps deprecated names to their current one. */
export function choiceOption<T extends string>(values: Values, name: string, choices: readonly T[], fallback: T, aliases: Readonly<Record<string, T>> = {}): T {
  const given = optionalString(values, name) ?? fallback;
  const v = aliases[given] ?? given;
  if (!(choices as readonly string[]).includes(v)) throw usageError(`--${name} must be one of ${choices.join(', ')}, got "${v}"`);
  return v as T;
}
