import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { simulateCall } from '../sim/agi-sim.js';
import { startCliDaemon, type CliDaemon } from '../support/cli-process.js';
import { freePort } from '../support/free-port.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DASHBOARD = join(ROOT, 'ops', 'grafana-dashboard.json');
const NUM = '15552345678';

interface Dashboard {
  panels: { title: string; datasource?: unknown; targets?: { expr: string }[] }[];
  templating: { list: { name: string; type: string; query?: unknown; definition?: string }[] };
}

/** Every PromQL expression in the dashboard: panel targets and the variables' label_values() queries. */
function expressions(d: Dashboard): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const p of d.panels) for (const t of p.targets ?? []) out.push({ where: `panel "${p.title}"`, expr: t.expr });
  for (const v of d.templating.list) {
    const q = typeof v.query === 'object' && v.query !== null ? (v.query as { query?: string }).query : undefined;
    if (v.type === 'query' && q) out.push({ where: `variable $${v.name}`, expr: q });
  }
  return out;
}

const NOT_METRICS = new Set([
  'sum', 'min', 'max', 'avg', 'count', 'rate', 'irate', 'increase', 'deriv', 'delta', 'histogram_quantile', 'clamp_min', 'clamp_max',
  'label_values', 'topk', 'bottomk', 'abs', 'and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right',
]);

/**
 * The series an expression reads, each with its literal `label="value"` matchers. Label names in by()/on()
 * lists, strings, ranges and Grafana variables are removed first, so what is left outside braces are
 * function names and metric names.
 */
export function selectors(expr: string): { metric: string; labels: Record<string, string> }[] {
  let e = expr.replace(/\$\{?\w+\}?/g, 'X');
  e = e.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  e = e.replace(/\[[^\]]*\]/g, ' ');
  const lv = /label_values\(\s*([a-zA-Z_:][\w:]*)?(\{[^}]*\})?\s*,\s*\w+\s*\)/g;
  e = e.replace(lv, (_m, metric: string | undefined, braces: string | undefined) => ` ${metric ?? ''}${braces ?? ''} `);
  const out: { metric: string; labels: Record<string, string> }[] = [];
  const re = /([a-zA-Z_:][\w:]*)\s*(\{[^}]*\})?/g;
  const stripped = e.replace(/"(?:[^"\\]|\\.)*"/g, (s) => s.replace(/[a-zA-Z_]/g, '_'));
  for (const m of stripped.matchAll(re)) {
    const name = m[1] ?? '';
    const at = (m.index ?? 0) + name.length;
    if (NOT_METRICS.has(name) || /^\d/.test(name) || /^_+$/.test(name)) continue;
    if (/^\s*\(/.test(stripped.slice(at)) && !m[2]) continue;
    const labels: Record<string, string> = {};
    // the same span of the unmangled text; only exact matchers (not =~, !=, !~) pin a value that must exist
    const braces = e.slice(m.index ?? 0, (m.index ?? 0) + m[0].length);
    for (const l of braces.matchAll(/(\w+)\s*(=~|!=|!~|=)\s*"([^"]*)"/g)) if (l[2] === '=' && l[3] !== 'X') labels[l[1] ?? ''] = l[3] ?? '';
    out.push({ metric: name, labels });
  }
  return out;
}

interface Scrape {
  readonly types: Map<string, string>;
  readonly samples: Map<string, Record<string, string>[]>;
}

function parseScrape(text: string): Scrape {
  const types = new Map<string, string>();
  const samples = new Map<string, Record<string, string>[]>();
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)/.exec(line);
    if (t) types.set(t[1] ?? '', t[2] ?? '');
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] ?? ''] = l[2] ?? '';
    const list = samples.get(m[1] ?? '') ?? [];
    list.push(labels);
    samples.set(m[1] ?? '', list);
  }
  return { types, samples };
}

/** Registered by the daemon: a sample in the scrape, or a TYPE line (a labelled series with no traffic yet), or a histogram's _bucket/_sum/_count. */
function exported(s: Scrape, name: string): boolean {
  if (s.samples.has(name) || s.types.has(name)) return true;
  const base = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
  return base !== undefined && s.types.get(base) === 'histogram';
}

describe('selectors(): the metric names a PromQL expression reads', () => {
  test('table', () => {
    const table: [string, string[]][] = [
      ['sum by (carrier, verdict) (rate(failover_agi_attempts_total{instance=~"$instance", verdict="answered"}[$__rate_interval])) * 60', ['failover_agi_attempts_total']],
      ['histogram_quantile(0.99, sum by (le) (rate(a_bucket{x="1"}[5m])))', ['a_bucket']],
      ['label_values(failover_agi_carrier_health{instance=~"$instance"}, carrier)', ['failover_agi_carrier_health']],
      ['label_values(failover_agi_active_calls, instance)', ['failover_agi_active_calls']],
      ['a / on (instance) group_left (route) b > 0.2 and c', ['a', 'b', 'c']],
      ['up{job="by sum rate"} == 0', ['up']],
    ];
    for (const [expr, names] of table) assert.deepEqual(selectors(expr).map((s) => s.metric), names, expr);
    assert.deepEqual(selectors('sum(x{verdict="answered", carrier=~"$carrier", a!="b"})')[0]?.labels, { verdict: 'answered' });
  });
});

describe('the Grafana dashboard against a running daemon', () => {
  let d: CliDaemon;
  let scrape: Scrape;
  const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;

  before(async () => {
    const http = await freePort();
    d = await startCliDaemon({ http: { port: http }, ami: { enabled: false } });
    // traffic, so the labelled series have samples: an answer, a failover on 503, an exhausted call, a refused number
    await simulateCall({ port: d.port, args: [NUM], carriers: { 'carrier-primary': { kind: 'answer' } } });
    await simulateCall({ port: d.port, args: [NUM], carriers: { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer' } } });
    await simulateCall({ port: d.port, args: [NUM], carriers: { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'reject', sip: 503 }, 'carrier-c': { kind: 'unreachable' } } });
    await simulateCall({ port: d.port, args: ['555&SIP/1@x'], carriers: {} });
    scrape = parseScrape(await (await fetch(`http://127.0.0.1:${http}/metrics`)).text());
  });
  after(async () => {
    d.kill('SIGTERM');
    await d.exited;
  });

  test('every panel reads the datasource variable; the dashboard covers what the issue asks', () => {
    assert.ok(dash.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource'));
    for (const p of dash.panels) assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, p.title);
    const all = expressions(dash).map((x) => x.expr).join('\n');
    for (const m of ['carrier_health', 'attempts_total', 'failovers_total', 'calls_total{', 'attempt_log_spool_bytes', 'ami_connected', 'db_connected', 'carrier_post_dial_delay_seconds_bucket']) assert.ok(all.includes(`failover_agi_${m}`), m);
    assert.match(all, /status="EXHAUSTED"/);
  });

  test('every metric of every expression is one the daemon exports, and every exact label value has a sample', () => {
    const exprs = expressions(dash);
    assert.ok(exprs.length >= 15, `${exprs.length} expressions`);
    const seen = new Set<string>();
    for (const { where, expr } of exprs) {
      const sel = selectors(expr);
      assert.ok(sel.length > 0, `${where}: no metric found in ${expr}`);
      for (const s of sel) {
        seen.add(s.metric);
        assert.ok(exported(scrape, s.metric), `${where}: ${s.metric} is not in /metrics`);
        const want = Object.entries(s.labels);
        if (want.length === 0) continue;
        const rows = scrape.samples.get(s.metric) ?? [];
        assert.ok(rows.some((r) => want.every(([k, v]) => r[k] === v)), `${where}: no sample of ${s.metric}{${want.map(([k, v]) => `${k}="${v}"`).join(',')}} after the traffic`);
      }
    }
    assert.ok(seen.size >= 12, `only ${seen.size} distinct series: ${[...seen].join(', ')}`);
    for (const name of seen) assert.match(name, /^failover_agi_/, 'only the daemon’s own series');
  });
});
