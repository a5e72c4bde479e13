import type client from 'prom-client';

/**
 * Counts by label values, kept in a Map on the call path and handed to a prom-client Counter at scrape time (its
 * collect). Counter.inc checks and hashes its labels object on every call, some 3,000 instructions; a call counts
 * three or four things. Label values are joined by NUL, which no label value here holds (carrier, route, verdict,
 * status and SIP code are config names and words).
 */
export class LabelCounts<L extends string> {
  private readonly counts = new Map<string, { readonly labels: Partial<Record<L, string>>; n: number }>();

  constructor(private readonly names: readonly L[]) {}

  /** `values` in the order of the names given to the constructor. */
  inc(...values: string[]): void {
    const key = values.length === 1 ? (values[0] as string) : values.join('\u0000');
    const e = this.counts.get(key);
    if (e !== undefined) {
      e.n++;
      return;
    }
    const labels: Partial<Record<L, string>> = {};
    this.names.forEach((name, i) => (labels[name] = values[i] ?? ''));
    this.counts.set(key, { labels, n: 1 });
  }

  /** For the Counter's collect(): its series set to these counts. */
  into(counter: client.Counter<L>): void {
    counter.reset();
    for (const e of this.counts.values()) counter.inc(e.labels, e.n);
  }
}
