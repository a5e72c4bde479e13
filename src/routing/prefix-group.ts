/** A named set of destination prefixes whose health the breaker follows apart from the carrier's (issue 15). */
export interface PrefixGroup {
  readonly name: string;
  /** Digits the number starts with, after the route's transform and without its leading `+`. */
  readonly prefixes: readonly string[];
}

/** A matcher built once per config: every prefix of every group, longest first. */
export interface PrefixMatcher {
  readonly entries: readonly { readonly prefix: string; readonly group: string }[];
}

export function prefixMatcher(groups: readonly PrefixGroup[]): PrefixMatcher {
  const entries = groups.flatMap((g) => g.prefixes.map((prefix) => ({ prefix, group: g.name })));
  // longest first, so 4479 (one range) wins over 447 (mobiles) wins over 44 (the country)
  entries.sort((a, b) => b.prefix.length - a.prefix.length || (a.prefix < b.prefix ? -1 : 1));
  return { entries };
}

/**
 * The group a dialed number falls in: the group holding the longest prefix the number starts with, or null when
 * no prefix matches. A leading `+` is not part of the match (`+447…` and `447…` are the same destination).
 */
export function groupOf(number: string, m: PrefixMatcher): string | null {
  const digits = number.startsWith('+') ? number.slice(1) : number;
  for (const e of m.entries) if (digits.startsWith(e.prefix)) return e.group;
  return null;
}
