/** mulberry32: a seeded PRNG, so every fuzz run with the same seed tries the same inputs. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

export function randomString(r: () => number, maxLen: number, alphabet?: string): string {
  const n = Math.floor(r() * (maxLen + 1));
  let s = '';
  for (let i = 0; i < n; i++) {
    s += alphabet ? (alphabet[Math.floor(r() * alphabet.length)] ?? '') : String.fromCharCode(Math.floor(r() * (r() < 0.9 ? 128 : 0x3000)));
  }
  return s;
}
