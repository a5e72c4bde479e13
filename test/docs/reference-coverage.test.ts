import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CARRIER_DEFAULTS, CARRIER_KEYS, ROUTE_DEFAULTS, ROUTE_KEYS } from '../../src/config/carriers.js';
import { loadConfig } from '../../src/config/load.js';
import { daemonSchema } from '../../src/config/schema.js';
import { COMMAND_HELP } from '../../src/ops/cli-help.js';
import { startService, type Service } from '../../src/service.js';
import { memoryAttemptLog } from '../support/attempt-log.js';
import { CARRIERS, ROUTES, memoryLog } from '../support/daemon.js';
import { freePort } from '../support/free-port.js';
import { MemorySink } from '../support/memory-sink.js';
import { tableRows, type TableRow } from './markdown-tables.js';

/**
 * The reference cannot drift from the code: every config key the schema and the carrier/route validator accept,
 * every metric a running service exports and every CLI command has its entry in docs/, with the default the code
 * uses, and docs/ lists nothing the code no longer has.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const page = (name: string): string => readFileSync(join(ROOT, name), 'utf8');
const CONFIG_DOC = 'docs/configuration.md';
const METRICS_DOC = 'docs/metrics-alerts.md';
const CLI_DOC = 'docs/operations.md';

interface SchemaLeaf {
  readonly key: string;
  readonly env: string | null;
  readonly def: unknown;
  readonly doc: string;
}

/** Every setting of the convict schema; carriers and routes are the validator's, checked on their own. */
function schemaLeaves(node: Record<string, unknown>, prefix = ''): SchemaLeaf[] {
  const out: SchemaLeaf[] = [];
  for (const [name, v] of Object.entries(node)) {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    if (typeof v !== 'object' || v === null) continue;
    const o = v as Record<string, unknown>;
    if ('doc' in o && 'default' in o) {
      if (key !== 'carriers' && key !== 'routes') out.push({ key, env: typeof o['env'] === 'string' ? o['env'] : null, def: o['default'], doc: String(o['doc']) });
    } else out.push(...schemaLeaves(o, key));
  }
  return out;
}

/** A default as the tables write it: `4096`, `info`, `false`, `[]`, a list of code spans, or "empty". */
export function renderDefault(v: unknown): string {
  if (v === '') return 'empty';
  if (v === hostname()) return 'the host name';
  if (Array.isArray(v)) return v.length === 0 ? '`[]`' : v.map((x) => `\`${String(x)}\``).join(', ');
  return `\`${String(v)}\``;
}

/** The default cell says the default first; a unit or a note may follow ("`60000` ms (12 h)"). */
function saysDefault(cell: string, v: unknown): boolean {
  const r = renderDefault(v);
  return cell === r || cell.startsWith(`${r} `);
}

const codeKey = (cell: string): string | null => /^`([^`\s]+)`$/.exec(cell)?.[1] ?? null;

function rowsUnder(doc: string, firstHeader: string): TableRow[] {
  return tableRows(page(doc)).filter((r) => r.header[0] === firstHeader);
}

test('renderDefault writes defaults as the tables do', () => {
  assert.equal(renderDefault(4096), '`4096`');
  assert.equal(renderDefault('info'), '`info`');
  assert.equal(renderDefault(false), '`false`');
  assert.equal(renderDefault(''), 'empty');
  assert.equal(renderDefault([]), '`[]`');
  assert.equal(renderDefault(['127.0.0.1', '::1']), '`127.0.0.1`, `::1`');
  assert.ok(saysDefault('`60000` ms (12 h)', 60000));
  assert.ok(!saysDefault('`5000` ms', 500), 'a prefix of another number is not the default');
});

describe(`every daemon setting has its row in ${CONFIG_DOC}`, () => {
  const leaves = schemaLeaves(daemonSchema as unknown as Record<string, unknown>);
  const rows = rowsUnder(CONFIG_DOC, 'key');
  const byKey = new Map<string, TableRow[]>();
  for (const r of rows) {
    const k = codeKey(r.cells[0] ?? '');
    assert.ok(k !== null, `${CONFIG_DOC}: one key per row, as a code span: ${r.cells.join(' | ')}`);
    byKey.set(k, [...(byKey.get(k) ?? []), r]);
  }

  test('the tables have the columns key, env, default, meaning', () => {
    for (const r of rows) assert.deepEqual(r.header, ['key', 'env', 'default', 'meaning']);
  });

  for (const leaf of leaves) {
    test(leaf.key, () => {
      const found = byKey.get(leaf.key) ?? [];
      assert.equal(found.length, 1, `${CONFIG_DOC} needs exactly one row for \`${leaf.key}\` (schema: ${leaf.doc})`);
      const [, env, def, meaning] = found[0]?.cells ?? [];
      assert.equal(env, leaf.env === null ? '' : `\`${leaf.env}\``, `${leaf.key}: the env column`);
      assert.ok(saysDefault(def ?? '', leaf.def), `${leaf.key}: the default column must start with ${renderDefault(leaf.def)}, got "${def}"`);
      assert.ok((meaning ?? '').length > 0, `${leaf.key}: say what it does`);
    });
  }

  test('no row names a key the schema does not have', () => {
    const known = new Set(leaves.map((l) => l.key));
    assert.deepEqual([...byKey.keys()].filter((k) => !known.has(k)), []);
  });

  test('every other table in docs/ that gives a setting a default gives the schema\'s', () => {
    const defaults = new Map(leaves.map((l) => [l.key, l.def]));
    const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    for (const p of pages) {
      for (const r of tableRows(page(p))) {
        const col = r.header.indexOf('default');
        const k = codeKey(r.cells[0] ?? '');
        if (col < 0 || k === null || !defaults.has(k)) continue;
        assert.ok(saysDefault(r.cells[col] ?? '', defaults.get(k)), `${p}: ${k} default "${r.cells[col]}", the schema says ${renderDefault(defaults.get(k))}`);
      }
    }
  });
});

for (const [what, keys, defaults] of [
  ['carrier', CARRIER_KEYS, CARRIER_DEFAULTS],
  ['route', ROUTE_KEYS, ROUTE_DEFAULTS],
] as const) {
  test(`every ${what} key the validator accepts has its row in ${CONFIG_DOC}, with its default`, () => {
    const rows = rowsUnder(CONFIG_DOC, `${what} key`);
    const documented = rows.map((r) => codeKey(r.cells[0] ?? ''));
    assert.deepEqual([...documented].sort(), [...keys].sort(), `the ${what} key table must list exactly the accepted keys`);
    for (const r of rows) {
      const k = codeKey(r.cells[0] ?? '') ?? '';
      const def = r.cells[1] ?? '';
      if (k in defaults) assert.ok(saysDefault(def, (defaults as Record<string, unknown>)[k]), `${what} ${k}: default "${def}", the code says ${renderDefault((defaults as Record<string, unknown>)[k])}`);
      else assert.ok(def.length > 0, `${what} ${k}: say whether it is required or what it defaults to`);
      assert.ok((r.cells[2] ?? '').length > 0, `${what} ${k}: say what it does`);
    }
  });
}

describe(`every metric a running service exports is in ${METRICS_DOC}`, () => {
  let svc: Service;
  let served: Map<string, string>;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fa-docs-'));
    const config = loadConfig({
      file: null,
      env: {},
      overrides: {
        'agi.port': 0,
        'http.port': await freePort(),
        'control.socket': join(dir, 'c.sock'),
        'control.stateFile': join(dir, 's.json'),
        'store.spoolDir': join(dir, 'spool'),
        carriers: CARRIERS,
        routes: ROUTES,
      },
    });
    svc = await startService({ config, configFile: null, log: memoryLog('warn').log, attemptLog: () => memoryAttemptLog(new MemorySink()) });
    const text = await (await fetch(`http://127.0.0.1:${svc.httpPort}/metrics`)).text();
    served = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']));
  });
  after(async () => {
    await svc?.stop();
  });

  test('each with its type and labels, and nothing the service does not export', () => {
    assert.ok(served.size > 20, `scraped ${served.size} metrics`);
    const rows = rowsUnder(METRICS_DOC, 'metric');
    const documented = new Map<string, TableRow>();
    for (const r of rows) {
      assert.deepEqual(r.header, ['metric', 'type', 'labels', 'meaning']);
      const name = codeKey(r.cells[0] ?? '');
      assert.ok(name !== null && !documented.has(name), `one row per metric: ${r.cells[0]}`);
      documented.set(name, r);
    }
    assert.deepEqual([...served.keys()].filter((n) => !documented.has(n)), [], `${METRICS_DOC} lacks these metrics`);
    assert.deepEqual([...documented.keys()].filter((n) => !served.has(n)), [], `${METRICS_DOC} lists metrics the service does not export`);
    for (const [name, type] of served) {
      const r = documented.get(name);
      assert.equal(r?.cells[1], type, `${name}: type`);
      const metric = svc.metrics.registry.getSingleMetric(name) as unknown as { labelNames?: readonly string[] } | undefined;
      const labels = (metric?.labelNames ?? []).map((l) => `\`${l}\``).join(', ');
      assert.equal(r?.cells[2], labels, `${name}: labels`);
      assert.ok((r?.cells[3] ?? '').length > 0, `${name}: say what it counts`);
    }
  });
});

/** The usage lines of one command's --help, without "Usage: ". */
function usageLines(help: string): string[] {
  const out: string[] = [];
  for (const line of help.split('\n')) {
    if (line.trim() === '') break;
    out.push(line.replace(/^Usage: /, '').trim());
  }
  return out;
}

test(`every CLI command is in ${CLI_DOC} with its usage as --help prints it`, () => {
  const items = page(CLI_DOC)
    .split('\n')
    .filter((l) => l.startsWith('- `failover-agi '));
  const documented = new Set(items.map((l) => /^- `failover-agi ([a-z-]+)/.exec(l)?.[1] ?? ''));
  for (const [cmd, help] of Object.entries(COMMAND_HELP)) {
    const item = items.find((l) => l.startsWith(`- \`failover-agi ${cmd} `) || l.startsWith(`- \`failover-agi ${cmd}\``));
    assert.ok(item, `${CLI_DOC}: no "- \`failover-agi ${cmd} …\`" item in the command list`);
    for (const u of usageLines(help)) assert.ok(item.includes(`\`${u}\``), `${cmd}: the usage \`${u}\` as --help prints it`);
  }
  assert.deepEqual([...documented].filter((c) => !(c in COMMAND_HELP)), [], `${CLI_DOC} lists commands the CLI does not have`);
});
