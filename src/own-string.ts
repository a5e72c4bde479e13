/**
 * A copy of `s` that owns its characters. V8 keeps a slice of 13 characters or more as a pointer into the string it
 * was cut from, and a string built by `+` as a tree of its pieces: a value kept for a whole call (a header field, a
 * run id) would keep the whole header chunk, or a dozen tree nodes, alive while the call is held in Dial. The
 * JSON round trip is lossless for every string (lone surrogates included) and gives one flat string.
 */
export function ownString(s: string): string {
  return s.length < 13 ? s : (JSON.parse(JSON.stringify(s)) as string);
}
