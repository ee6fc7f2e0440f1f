// Small statistics over samples in milliseconds.

/** min, median, mean, max and n of a list of numbers (undefined when empty). */
export function summarize(xs) {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { min: s[0], median, mean: s.reduce((a, b) => a + b, 0) / s.length, max: s[s.length - 1], n: s.length };
}

/**
 * The order of round k: row k of a Williams design (a Latin square balanced for carry-over).
 * Each runtime leaves the kernel work behind (network namespace cleanup, cgroup offlining,
 * discards) that the next run meets; a plain rotation keeps the same neighbours in every round
 * (each runtime always right after the same one), so one runtime would always pay for the
 * same other. In a Williams square every runtime comes first and right after every other one
 * equally often: once per square for an even count, twice per pair of squares for an odd one
 * (the odd case uses the square and its mirror).
 */
export function rotate(list, k) {
  const n = list.length;
  if (n < 3) return list.map((_, i) => list[(i + k) % n]);
  // the first row 0, 1, n-1, 2, n-2, ...; row r adds r to each entry, mod n
  const first = [0];
  for (let lo = 1, hi = n - 1; first.length < n; lo++, hi--) {
    first.push(lo);
    if (first.length < n) first.push(hi);
  }
  const r = k % (n % 2 ? 2 * n : n);
  const row = first.map((x) => list[(x + r) % n]);
  return r >= n ? row.reverse() : row;
}
