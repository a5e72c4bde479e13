import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createRecordStore } from '../../src/store/record-store.js';
import { runDemo } from '../sim/demo-run.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { memoryLog } from '../support/daemon.js';
import { attemptRecord, carrierEvent } from '../support/records.js';
import { until } from '../support/until.js';

/**
 * Every `mysql …` command the documentation shows is run as written, with the real client binary, against a
 * database filled by the daemon's own record path (a demo run now, plus the documented @fa_until moment's past).
 *
 * Where the commands are found:
 * - README.md and docs/*.md: each line of a fenced code block that starts with `mysql ` or `mariadb ` (after an
 *   optional `$ ` prompt), and each inline code span that does;
 * - each sql/queries/*.sql header: the comment lines `-- Run:  <command>` and `--       <command>`.
 *
 * The substitution rule, the only change made to a command: the database name `failover_agi`, as a whole shell
 * word, becomes the test's database. Host, port, user and password come from a `[client]` section in ~/.my.cnf
 * (HOME is a temporary directory), which is how an operator's client finds them too. Commands run from the
 * repository root, under `sh -c`, so `sql/queries/…` paths and the quoting are exactly the shell's.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const QUERIES = join(ROOT, 'sql', 'queries');
const DB_WORD = /(^|\s)failover_agi(?=\s|$)/g;
const UNTIL = '2026-11-25 14:30:00';
const UNTIL_MS = Date.parse('2026-11-25T14:30:00Z');

/** The columns each query returns, in order: what its output header must be. */
const COLUMNS: Record<string, readonly string[]> = {
  'asr-15min.sql': ['carrier', 'dials', 'answered', 'asr_pct', 'callee_stop', 'carrier_failed', 'avg_ring_ms_answered'],
  'asr-hourly.sql': ['hour_utc', 'carrier', 'dials', 'answered', 'asr_pct', 'carrier_failed'],
  'back-on-primary.sql': ['back_up_at', 'server_id', 'carrier', 'from_state', 'source', 'reason', 'seconds_out', 'first_answer_after'],
  'carrier-timeline.sql': ['at', 'server_id', 'carrier', 'from_state', 'to_state', 'source', 'reason', 'seconds_in_state'],
  'exhausted-calls.sql': ['uniqueid', 'started_at', 'number_dialed', 'lead_id', 'dials', 'tried'],
  'failovers.sql': ['uniqueid', 'started_at', 'number_dialed', 'lead_id', 'dials', 'path', 'answered_by', 'final_verdict'],
  'lead-history.sql': ['started_at', 'uniqueid', 'attempt', 'carrier', 'verdict', 'dialstatus', 'sip_code', 'sip_reason', 'pdd_ms', 'ring_ms', 'talk_ms', 'reason'],
  'post-dial-delay.sql': ['carrier', 'dials', 'alerted', 'not_alerted', 'p50_pdd_ms', 'p95_pdd_ms', 'max_pdd_ms'],
  'sip-code-mix.sql': ['carrier', 'final_sip', 'sip_reason', 'last_provisional', 'dialstatus', 'n', 'pct_of_carrier'],
  'spend.sql': ['carrier', 'period', 'starts', 'answered', 'talk_min', 'billed_min', 'money'],
  'time-wasted.sql': ['carrier', 'failed_dials', 'seconds_wasted', 'avg_ms', 'max_ms'],
};

interface Documented {
  /** Where it is written, e.g. `README.md:703`. */
  readonly where: string;
  readonly command: string;
  /** The table printed under it in the documentation (a `mysql -t` example), as lines; empty when none. */
  readonly shown: readonly string[];
}

const CLIENT = /^(?:mysql|mariadb)\s/;

function fromMarkdown(file: string): Documented[] {
  const out: Documented[] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  let fenced = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      continue;
    }
    const where = `${relative(ROOT, file)}:${i + 1}`;
    if (fenced) {
      const cmd = line.trim().replace(/^\$\s+/, '');
      if (!CLIENT.test(cmd)) continue;
      const shown: string[] = [];
      for (let j = i + 1; j < lines.length && !/^\s*(```|\$\s)/.test(lines[j] as string) && (lines[j] as string).trim() !== ''; j++) shown.push(lines[j] as string);
      out.push({ where, command: cmd, shown: line.trim().startsWith('$') ? shown : [] });
    } else {
      for (const m of line.matchAll(/`((?:mysql|mariadb)\s[^`]+)`/g)) out.push({ where, command: m[1] as string, shown: [] });
    }
  }
  return out;
}

function fromQueryHeader(file: string): Documented[] {
  const out: Documented[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const m = /^--\s+(?:Run:\s+)?((?:mysql|mariadb)\s.*)$/.exec(line);
      if (m) out.push({ where: `${relative(ROOT, file)}:${i + 1}`, command: (m[1] as string).trim(), shown: [] });
    });
  return out;
}

const markdown = [join(ROOT, 'README.md'), ...(existsSync(join(ROOT, 'docs')) ? readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(ROOT, 'docs', f)) : [])];
const queryFiles = readdirSync(QUERIES).filter((f) => f.endsWith('.sql')).sort();
const documented: Documented[] = [...markdown.flatMap(fromMarkdown), ...queryFiles.flatMap((f) => fromQueryHeader(join(QUERIES, f)))];

/** The query file a command runs. */
const queryOf = (cmd: string): string | null => /sql\/queries\/([\w-]+\.sql)/.exec(cmd)?.[1] ?? null;

/** Batch output (tab-separated, a header line) or `-t` output (a boxed table): the header and the rows. */
function parseOutput(stdout: string): { header: string[]; rows: string[][] } {
  const lines = stdout.split('\n').filter((l) => l !== '');
  if (lines[0]?.startsWith('+')) {
    const cells = (l: string): string[] => l.split('|').slice(1, -1).map((c) => c.trim());
    const body = lines.filter((l) => l.startsWith('|'));
    return { header: cells(body[0] ?? ''), rows: body.slice(1).map(cells) };
  }
  const [head = '', ...rows] = lines;
  return { header: head.split('\t'), rows: rows.map((r) => r.split('\t')) };
}

describe('every documented SQL command runs as written, with the real client', () => {
  let t: TestDatabase;
  let home: string;
  const client = spawnSync('mysql', ['--version'], { encoding: 'utf8' });

  before(async () => {
    t = await createTestDatabase();
    // now: the demo's calls and state changes, written by the daemon's writer (lead 12345 is its VICIdial caller code)
    await runDemo({ db: t.db, print: () => undefined });
    const s = createRecordStore({ db: t.db, store: { spoolDir: mkdtempSync(join(tmpdir(), 'fa-docsql-')), flushRows: 100, flushMs: 20, queueLimit: 10000, spoolMaxBytes: 1 << 30, fsyncMs: 50 }, serverId: 'dialer1', log: memoryLog().log });
    await s.start();
    // now: primary back up after the demo took it down, so back-on-primary has a recovery to show
    s.carrierEvent(carrierEvent({ at: Date.now() - 1000, carrier: 'primary', from: 'down', to: 'up', source: 'ami', reason: 'PeerStatus Reachable' }));
    // the documented @fa_until moment: a failover of lead 12345 and primary's outage and recovery before it
    const at = (hms: string): number => Date.parse(`2026-11-25T${hms}Z`);
    s.attempt(attemptRecord({ serverId: 'dialer1', uniqueid: '1795000001.1', runId: 'docs-1', attempt: 1, carrier: 'primary', startedAt: at('14:20:00'), endedAt: at('14:20:00') + 120, ringMs: 120 }));
    s.attempt(
      attemptRecord({
        serverId: 'dialer1', uniqueid: '1795000001.1', runId: 'docs-1', attempt: 2, carrier: 'secondary', dialString: 'PJSIP/15552345678@carrier-b,60^5,T', verdict: 'answered',
        dialStatus: 'ANSWER', cause: 16, sipCode: 200, sipReason: 'OK', reason: 'answered', startedAt: at('14:20:01'), answeredAt: at('14:20:04'), endedAt: at('14:21:04'),
        ringMs: 3000, talkMs: 60000, pddMs: 800, ringtimeMs: 800, progresstimeMs: null,
      }),
    );
    for (const [hms, from, to] of [['14:19:00', 'up', 'down'], ['14:25:00', 'down', 'probing'], ['14:27:00', 'probing', 'up']] as const) {
      s.carrierEvent(carrierEvent({ at: at(hms), carrier: 'primary', from, to, source: 'ami', reason: `test: ${from} -> ${to}` }));
    }
    await until(() => s.stats().queued === 0);
    await s.close();
    assert.ok(UNTIL_MS > at('14:27:00'));
    home = mkdtempSync(join(tmpdir(), 'fa-docsql-home-'));
  });
  after(async () => {
    rmSync(home, { recursive: true, force: true });
    await t.drop();
  });

  const run = (command: string, charset: string) => {
    const cnf = ['[client]', `host=${t.db.host}`, `port=${t.db.port}`, `user=${t.db.user}`, ...(t.db.password ? [`password=${t.db.password}`] : []), `default-character-set=${charset}`, ''];
    writeFileSync(join(home, '.my.cnf'), cnf.join('\n'), { mode: 0o600 });
    return spawnSync('sh', ['-c', command.replace(DB_WORD, `$1${t.name}`)], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', HOME: home }, timeout: 30000 });
  };

  test('the commands were found: every query file documents how to run it, and every command names a query that exists', () => {
    assert.ok(client.status === 0, `the mysql client binary is needed: ${client.error?.message ?? client.stderr}`);
    for (const f of queryFiles) assert.ok(documented.some((d) => d.where.startsWith(`sql/queries/${f}:`) && queryOf(d.command) === f), `${f}: its header shows no command that runs it`);
    assert.deepEqual(Object.keys(COLUMNS).sort(), queryFiles, 'every query file has its expected columns here');
    for (const d of documented) assert.ok(queryOf(d.command) !== null && queryFiles.includes(queryOf(d.command) as string), `${d.where}: ${d.command} runs no query of sql/queries`);
    assert.ok(documented.filter((d) => !d.where.startsWith('sql/')).length > 0, 'the documentation shows commands too');
  });

  test('no command hides in a query header\'s prose (each is on a line of its own, so this test runs it)', () => {
    for (const f of queryFiles) {
      readFileSync(join(QUERIES, f), 'utf8')
        .split('\n')
        .forEach((l, i) => {
          if (l.startsWith('--') && /\b(?:mysql|mariadb)\s+-|\bSOURCE\s/i.test(l)) assert.match(l, /^--\s+(?:Run:\s+)?(?:mysql|mariadb)\s/, `sql/queries/${f}:${i + 1} names a command in prose: ${l}`);
        });
    }
  });

  // MySQL 8's client default is utf8mb4; older clients and MariaDB's without a locale talk utf8 (utf8mb3)
  for (const charset of ['utf8mb4', 'utf8']) {
    for (const d of documented) {
      test(`${d.where} (${charset} client): ${d.command}`, () => {
        const file = queryOf(d.command) as string;
        const r = run(d.command, charset);
        assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}`);
        assert.equal(r.stderr, '', 'nothing on stderr');
        const out = parseOutput(r.stdout);
        assert.deepEqual(out.header, COLUMNS[file], 'the columns of the query');
        assert.ok(out.rows.length > 0, `rows exist for this command, yet it printed none:\n${r.stdout}`);
        for (const row of out.rows) assert.equal(row.length, out.header.length, `a full row: ${row.join(' | ')}`);
        const carrier = /@fa_carrier\s*=\s*'([^']*)'/.exec(d.command)?.[1];
        if (carrier !== undefined) {
          const col = out.header.indexOf('carrier');
          assert.deepEqual([...new Set(out.rows.map((x) => x[col]))], [carrier], '@fa_carrier picks that carrier only');
        }
        if (d.shown.length > 0) assert.deepEqual(parseOutput(d.shown.join('\n')).header, out.header, 'the output the documentation shows has the same columns');
      });
    }
  }

  test('the documented @fa_until moment is the one the fixture fills', () => {
    assert.ok(documented.some((d) => d.command.includes(UNTIL)), `a command looks back from ${UNTIL}`);
    for (const d of documented.filter((x) => /@fa_until/.test(x.command))) assert.ok(d.command.includes(UNTIL), `${d.where}: a moment the fixture has no rows for`);
  });
});
