/**
 * "Did you mean …?" for unknown keys. Config typos are mostly one dropped, doubled or swapped letter
 * (`MaximumThread`, `MaxiumumThreads`, `MaixmumThreads`), so transpositions count as one edit
 * (optimal-string-alignment Damerau-Levenshtein).
 */

/** Edit distance with adjacent transpositions; both inputs already lower-cased. */
export function editDistance(a: string, b: string): number {
  // Three rolling rows: the transposition step looks two rows back.
  let prev2: number[] = [];
  let prev: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (prev2[j - 2] ?? 0) + 1);
      }
      row.push(best);
    }
    prev2 = prev;
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/**
 * The candidate closest to `input`, ignoring case, or undefined when none is close enough.
 * "Close enough" is max(2, length/3) edits: short names tolerate two slips, long names proportionally
 * more, and unrelated names are not suggested.
 */
export function nearestName(input: string, candidates: readonly string[]): string | undefined {
  const needle = input.toLowerCase();
  const limit = Math.max(2, Math.floor(needle.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    // The distance is at least the difference in length: skip the O(n·m) table when that alone is
    // too far (a 10 MB key against ~15 known names took 7 s; issue 18).
    if (Math.abs(needle.length - candidate.length) > limit) continue;
    const d = editDistance(needle, candidate.toLowerCase());
    if (d <= limit && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
