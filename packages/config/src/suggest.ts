/**
 * Optimal-string-alignment distance (Damerau–Levenshtein restricted to adjacent transpositions),
 * case-sensitive. Used only for short keys, so the quadratic table is fine.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      d[i * cols + j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The candidate closest to `input`, or undefined when none is plausibly meant, in this order: a
 * case-insensitive match (`volume` → `VOLUME`); the shortest candidate that `input` (≥ 4 chars)
 * starts (`forceShallow` → `forceShallowClone`); the nearest by edit distance, at most a third of
 * the longer word (at least 1, at most 3), ties broken by candidate order; the longest candidate
 * that `input` extends (`fromImages` → `fromImage`).
 */
export function closestMatch(input: string, candidates: readonly string[]): string | undefined {
  const lower = input.toLowerCase();
  const exactCase = candidates.find((c) => c.toLowerCase() === lower);
  if (exactCase !== undefined) return exactCase;
  const long = lower.length >= 4;
  const extensions = long ? candidates.filter((c) => c.toLowerCase().startsWith(lower)) : [];
  if (extensions.length > 0) return extensions.reduce((a, b) => (b.length < a.length ? b : a));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    const limit = Math.min(3, Math.max(1, Math.floor(Math.max(input.length, candidate.length) / 3)));
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined) return best;
  const prefixes = long ? candidates.filter((c) => c.length >= 4 && lower.startsWith(c.toLowerCase())) : [];
  return prefixes.length > 0 ? prefixes.reduce((a, b) => (b.length > a.length ? b : a)) : undefined;
}
