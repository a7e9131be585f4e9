/**
 * ACI parameters: names match without regard to case (idol-reference.md §9.1, "Case"), but the
 * names are kept as the client sent them, so that errors and echoes show the client's spelling.
 */
export class AciParams {
  /** Every pair in the order received, repeats included. */
  readonly #pairs: readonly (readonly [string, string])[];
  /** Lower-cased name → index in #pairs of the pair that wins (the last one sent). */
  readonly #winner = new Map<string, number>();

  constructor(pairs: Iterable<readonly [string, string]> = []) {
    const copy: (readonly [string, string])[] = [];
    for (const [name, value] of pairs) {
      this.#winner.set(name.toLowerCase(), copy.length);
      copy.push([name, value]);
    }
    this.#pairs = copy;
  }

  /** Number of distinct parameters (case-insensitively). */
  get size(): number {
    return this.#winner.size;
  }

  /** The value of `name`; when a parameter is repeated the last value wins. */
  get(name: string): string | undefined {
    const i = this.#winner.get(name.toLowerCase());
    return i === undefined ? undefined : this.#pairs[i]?.[1];
  }

  has(name: string): boolean {
    return this.#winner.has(name.toLowerCase());
  }

  /** Every value sent for `name`, in the order received. */
  getAll(name: string): string[] {
    const key = name.toLowerCase();
    return this.#pairs.filter(([n]) => n.toLowerCase() === key).map(([, v]) => v);
  }

  /** All pairs as sent (original case, order received, repeats included). */
  entries(): [string, string][] {
    return this.#pairs.map(([n, v]) => [n, v]);
  }

  /**
   * One key per parameter, spelled as in the pair that wins get(), with that pair's value.
   * Keys are defined, not assigned, so a parameter named `__proto__` stays an ordinary key.
   */
  toRecord(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const i of this.#winner.values()) {
      const pair = this.#pairs[i];
      if (pair) Object.defineProperty(out, pair[0], { value: pair[1], enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
}
