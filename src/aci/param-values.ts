/**
 * Reading typed ACI parameters, with errors that name the parameter and action at fault.
 */
import { TocsinError } from '../common/errors.js';
import { parseBoolean } from '../config/values.js';
import type { ParamReader } from '../queue/action-definition.js';

/** Accepted range of an action's `Priority`, at submission and in QueueInfo ChangePriority. */
export const PRIORITY_RANGE = { min: -1_000_000, max: 1_000_000 } as const;

export function requireParam(params: ParamReader, name: string, action: string): string {
  const value = params.get(name);
  if (value === undefined || value === '') {
    throw new TocsinError('PARAM_MISSING', `The ${action} action needs the ${name} parameter`);
  }
  return value;
}

export function intParam(params: ParamReader, name: string, action: string, range: { min?: number; max?: number } = {}): number | undefined {
  const value = params.get(name);
  if (value === undefined || value === '') return undefined;
  const n = /^[+-]?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || (range.min !== undefined && n < range.min) || (range.max !== undefined && n > range.max)) {
    const bounds = range.min !== undefined || range.max !== undefined ? ` between ${range.min ?? '-∞'} and ${range.max ?? '∞'}` : '';
    throw new TocsinError('PARAM_INVALID', `${action}: ${name}="${value.slice(0, 100)}" is not an integer${bounds}`);
  }
  return n;
}

export function boolParam(params: ParamReader, name: string, action: string): boolean | undefined {
  const value = params.get(name);
  if (value === undefined || value === '') return undefined;
  const parsed = parseBoolean(value);
  if (!parsed.ok) throw new TocsinError('PARAM_INVALID', `${action}: ${name}="${value.slice(0, 100)}" is not a boolean (true/false)`);
  return parsed.value;
}

/** One of `values`, case-insensitively; returns the spelling in `values`. */
export function choiceParam<T extends string>(params: ParamReader, name: string, action: string, values: readonly T[]): T | undefined {
  const value = params.get(name);
  if (value === undefined || value === '') return undefined;
  const match = values.find((v) => v.toLowerCase() === value.toLowerCase());
  if (!match) throw new TocsinError('PARAM_INVALID', `${action}: ${name}="${value.slice(0, 100)}" is not one of ${values.join(', ')}`);
  return match;
}
