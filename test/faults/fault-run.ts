/**
 * Sizes and randomness for the fault tests (issue 16 part 4). `npm test` runs a short form;
 * `npm run test:faults` sets TOCSIN_FUZZ=full (as the fuzzers do) for the full form. Random choices
 * come from a seeded generator whose seed is printed; `TOCSIN_FAULT_SEED=<seed>` repeats a run.
 */
import type { TestContext } from 'node:test';
import { FULL } from '../helpers/fuzz.js';

export { FULL };

/** `quick` in npm test, `full` under test:faults. */
export function sized(quick: number, full: number): number {
  return FULL ? full : quick;
}

export interface Random {
  readonly seed: number;
  /** [0, 1) */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
}

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export function seededRandom(t: TestContext, name: string): Random {
  const forced = Number(process.env['TOCSIN_FAULT_SEED']);
  const seed = Number.isInteger(forced) && process.env['TOCSIN_FAULT_SEED'] !== undefined ? forced : Math.floor(Math.random() * 0x7fffffff);
  const line = `${name}: seed=${seed} (TOCSIN_FAULT_SEED=${seed} repeats it)${FULL ? ' [full]' : ' [short]'}`;
  t.diagnostic(line);
  console.log(line);
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
  };
}
