/**
 * Seeded, bounded fuzzing with fast-check (issue 16 part 5). `npm test` runs a few thousand cases
 * in all; `npm run test:faults` sets TOCSIN_FUZZ=full for the nightly size (at least 100,000 per
 * fuzzer). Every run prints its seed; `TOCSIN_FUZZ_SEED=<seed>` repeats it exactly, and
 * `TOCSIN_FUZZ_RUNS=<n>` overrides the count. A failure's message carries fast-check's seed and
 * path, and the shrunk counterexample.
 */
import fc from 'fast-check';
import type { TestContext } from 'node:test';

export const FULL = process.env['TOCSIN_FUZZ'] === 'full';

/** Cases for one fuzzer: `quick` in npm test, `full` (default 100,000) in the nightly run. */
export function fuzzRuns(quick: number, full = 100_000): number {
  const forced = Number(process.env['TOCSIN_FUZZ_RUNS']);
  if (Number.isInteger(forced) && forced > 0) return forced;
  return FULL ? full : quick;
}

function fuzzSeed(): number {
  const forced = Number(process.env['TOCSIN_FUZZ_SEED']);
  if (Number.isInteger(forced)) return forced;
  return Math.floor(Math.random() * 0x7fffffff);
}

/** Runs `property` `runs` times from a printed seed; a failure names the seed. */
export async function fuzz<T>(t: TestContext, name: string, runs: number, property: fc.IAsyncProperty<T> | fc.IProperty<T>): Promise<void> {
  const seed = fuzzSeed();
  const line = `fuzz ${name}: seed=${seed} runs=${runs} (TOCSIN_FUZZ_SEED=${seed} TOCSIN_FUZZ_RUNS=${runs} repeats it)`;
  t.diagnostic(line);
  console.log(line);
  const started = performance.now();
  await fc.assert(property as fc.IAsyncProperty<T>, { seed, numRuns: runs, includeErrorInReport: true });
  t.diagnostic(`fuzz ${name}: ${runs} cases passed in ${Math.round(performance.now() - started)} ms`);
}

/** Characters that break naive XML and text handling, to mix into fuzzed strings. */
export const HOSTILE_PIECES = [
  ']]>',
  '<![CDATA[',
  '<!--',
  '&',
  '&amp;',
  '<',
  '>',
  '"',
  "'",
  '\u0000',
  '\u0001',
  '\u0008',
  '\u000B',
  '\u001B[2J',
  '\u007F',
  '\u0085',
  '\u2028',
  '\uD800',
  '\uDFFF',
  '\uDBFF\uDFFF',
  '\uFFFE',
  '\uFFFF',
  '\uFEFF',
  '\r\n',
  '\r',
  '\n',
  '\t',
  '%',
  '%00',
  '${ENV:HOME}',
];

/** Any UTF-16 code unit: lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

/** Text mixing ordinary strings, any code unit, and the hostile pieces. */
export function hostileText(maxPieces = 12): fc.Arbitrary<string> {
  return fc
    .array(fc.oneof(fc.string({ unit: 'binary', maxLength: 8 }), fc.constantFrom(...HOSTILE_PIECES), fc.string({ unit: codeUnit, maxLength: 4 })), {
      maxLength: maxPieces,
    })
    .map((parts) => parts.join(''));
}

/**
 * What XML 1.0 can carry of `text` (§2.2 `Char`): the writer drops everything else (lone
 * surrogates, C0 controls but tab, LF and CR, U+FFFE, U+FFFF). An oracle written apart from the
 * writer's own regular expression.
 */
export function xmlCarriable(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const ok = c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
    if (ok) out += ch;
  }
  return out;
}
