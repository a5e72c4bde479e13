/** AMI messages as plain data: every key lower-case, every value one trimmed string. */
export type AmiMessage = Readonly<Record<string, string>>;

/** Values an action may carry; numbers and booleans are sent as text. */
export type AmiFields = Readonly<Record<string, string | number | boolean | undefined>>;

/**
 * asterisk-manager hands over lower-cased keys but untrimmed values, arrays for repeated keys and objects for
 * `Variable`; repeated keys keep their first value, which is the one Asterisk means for every field we read.
 */
export function normalizeMessage(raw: unknown): AmiMessage {
  const out: Record<string, string> = {};
  if (typeof raw !== 'object' || raw === null) return out;
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    const key = k.trim().toLowerCase();
    if (!key) continue;
    if (typeof v === 'string') out[key] = v.trim();
    else if (typeof v === 'number') out[key] = String(v);
    else if (Array.isArray(v) && typeof v[0] === 'string') out[key] = v[0].trim();
  }
  return out;
}

/**
 * Header injection guard: a CR or LF inside a value would end the header (or the whole action) and let the rest
 * be read as headers of our choosing. Keys keep only the characters AMI header names use.
 */
export function sanitizeFields(fields: AmiFields): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    const key = k.replace(/[^A-Za-z0-9_-]/g, '');
    if (!key) continue;
    out[key] = stripLineBreaks(String(v));
  }
  return out;
}

export function stripLineBreaks(v: string): string {
  return v.replace(/[\r\n]/g, '');
}

/** Case-insensitive equality, as Asterisk compares header values such as `EventList: Complete`. */
export function same(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase() === b.toLowerCase();
}
