import type client from 'prom-client';

/**
 * The AGI command round-trip histogram, observed about five times per call. prom-client's Histogram.observe checks
 * and hashes its labels object on every observation (some 5,000 instructions, a fifth of a call's own metrics
 * cost); this keeps one array of bucket counts per command and hands prom-client's registry the same series at
 * scrape time, in the form its own histograms give (name_bucket with `le` first, +Inf, name_sum, name_count).
 */

interface Series {
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

interface Value {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName: string;
  /** prom-client's buckets carry one (null without exemplars); its _sum and _count do not. */
  readonly exemplar?: null;
}

export class CommandHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();
  /** As prom-client's metrics name them (docs tests read it). */
  readonly labelNames: readonly string[];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly label: string,
    private readonly bounds: readonly number[],
  ) {
    this.labelNames = [label];
  }

  observe(value: string, seconds: number): void {
    if (!Number.isFinite(seconds)) return;
    let s = this.series.get(value);
    if (s === undefined) {
      s = { counts: new Float64Array(this.bounds.length), sum: 0, count: 0 };
      this.series.set(value, s);
    }
    // the first bound at or above the value, as prom-client's findBound; above every bound: counted in +Inf only
    for (let i = 0; i < this.bounds.length; i++) {
      if (seconds <= (this.bounds[i] as number)) {
        (s.counts as Float64Array)[i] = (s.counts[i] ?? 0) + 1;
        break;
      }
    }
    s.sum += seconds;
    s.count++;
  }

  /** What the registry prints and serves as JSON (Registry.getMetricsAsString reads name, help, type and values). */
  get(): Promise<{ name: string; help: string; type: 'histogram'; values: Value[]; aggregator: 'sum' }> {
    const values: Value[] = [];
    for (const [v, s] of this.series) {
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += s.counts[i] ?? 0;
        values.push({ labels: { le, [this.label]: v }, value: acc, metricName: `${this.name}_bucket`, exemplar: null });
      });
      values.push({ labels: { le: '+Inf', [this.label]: v }, value: s.count, metricName: `${this.name}_bucket`, exemplar: null });
      values.push({ labels: { [this.label]: v }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { [this.label]: v }, value: s.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  reset(): void {
    this.series.clear();
  }

  /** Registered as one of prom-client's own metrics: the registry only calls get() and reset(). */
  register(registry: client.Registry): void {
    registry.registerMetric(this as unknown as client.Metric);
  }
}
