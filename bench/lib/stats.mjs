// Small statistics over samples in milliseconds.

/** min, median, mean, max and n of a list of numbers (undefined when empty). */
export function summarize(xs) {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { min: s[0], median, mean: s.reduce((a, b) => a + b, 0) / s.length, max: s[s.length - 1], n: s.length };
}

/** Rotates a list by k (so that each round starts with a different runtime). */
export function rotate(list, k) {
  const n = list.length;
  return list.map((_, i) => list[(i + k) % n]);
}
