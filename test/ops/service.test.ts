import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { simulateCall } from '../sim/agi-sim.js';
import { startCliDaemon, type CliDaemon } from '../support/cli-process.js';
import { CARRIERS, ROUTES } from '../support/daemon.js';
import { freePort } from '../support/free-port.js';
import { until } from '../support/until.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
// the CLI of this build (dist-*/src/cli.js beside this test), as test/support/cli-process.ts runs the daemon
const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli.js');
const NUM = '15552345678';

function cli(args: string[], opts: { uid?: number; gid?: number; env?: Record<string, string> } = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const { env, ...ids } = opts;
    const p = spawn(process.execPath, [CLI, ...args], { ...ids, env: { PATH: process.env['PATH'], ...env } });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('the running daemon: CLI, metrics, status, reload', () => {
  let d: CliDaemon;
  let http: number;
  let sock: string;
  before(async () => {
    http = await freePort();
    d = await startCliDaemon({ http: { port: http }, ami: { enabled: false, secret: 'never-log-this-ami-secret' }, db: { password: 'never-log-this-db-password' }, log: { level: 'debug' } });
    sock = join(d.dir, 'control.sock');
  });
  after(async () => {
    d.kill('SIGTERM');
    await d.exited;
  });

  test('status prints a table of carriers', async () => {
    const r = await cli(['status', '--socket', sock]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /CARRIER\s+STATE\s+SINCE\s+DIALS\/15m\s+ASR\s+FAILED\s+SKIPPED\s+PDD p50\/p95\s+IN USE/);
    assert.match(r.out, /primary\s+unknown/);
    assert.match(r.out, /^tertiary\s+unknown\s+\S+\s+0\s+-\s+0\s+0\s+-\s+0 ch/m, 'no Dial: a dash for the delay');
    assert.match(r.out, /outbound-failover \(failover\): primary → secondary → tertiary/);
  });

  test('status shows post-dial delay p50 / p95 over the Dials that rang, as the carrier reported it (RINGTIME_MS)', async () => {
    // primary rang after 1.2 s and 3.4 s and was answered, then gave a 503 with no 180 (no delay); secondary took that call (2 ms, the captures')
    for (const alertMs of [1200, 3400]) await simulateCall({ port: d.port, args: [NUM], carriers: { 'carrier-primary': { kind: 'answer', alertMs } } });
    await simulateCall({ port: d.port, args: [NUM], carriers: { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer' } } });
    const r = await cli(['status', '--socket', sock]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^primary\s+\S+\s+\S+\s+3\s+67%\s+1\s+0\s+1\.2 s \/ 3\.4 s\s+0 ch/m, 'p50 and p95 of 1.2 s and 3.4 s; the 503 did not ring');
    assert.match(r.out, /^secondary\s+\S+\s+\S+\s+1\s+100%\s+0\s+0\s+2 ms \/ 2 ms\s+0 ch/m);
    const st = (await (await fetch(`http://127.0.0.1:${http}/status`)).json()) as { carriers: { name: string; last15m: { pdd: unknown } }[] };
    assert.deepEqual(st.carriers.find((c) => c.name === 'primary')?.last15m.pdd, { alerted: 2, p50Ms: 1200, p95Ms: 3400 });
    const metrics = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
    const line = (re: RegExp) => metrics.split('\n').find((l) => re.test(l));
    assert.equal(line(/^failover_agi_carrier_post_dial_delay_seconds_bucket\{le="1",carrier="primary"\}/), 'failover_agi_carrier_post_dial_delay_seconds_bucket{le="1",carrier="primary"} 0');
    assert.equal(line(/^failover_agi_carrier_post_dial_delay_seconds_bucket\{le="2",carrier="primary"\}/), 'failover_agi_carrier_post_dial_delay_seconds_bucket{le="2",carrier="primary"} 1');
    assert.equal(line(/^failover_agi_carrier_post_dial_delay_seconds_bucket\{le="5",carrier="primary"\}/), 'failover_agi_carrier_post_dial_delay_seconds_bucket{le="5",carrier="primary"} 2');
    assert.equal(line(/^failover_agi_carrier_post_dial_delay_seconds_bucket\{le="0.25",carrier="secondary"\}/), 'failover_agi_carrier_post_dial_delay_seconds_bucket{le="0.25",carrier="secondary"} 1');
    assert.equal(line(/^failover_agi_carrier_post_dial_delay_seconds_sum\{carrier="primary"\}/), 'failover_agi_carrier_post_dial_delay_seconds_sum{carrier="primary"} 4.6');
    assert.equal(line(/^failover_agi_carrier_post_dial_delay_seconds_count\{carrier="primary"\}/), 'failover_agi_carrier_post_dial_delay_seconds_count{carrier="primary"} 2', 'the 503 that never rang is not observed');
    assert.equal(line(/^failover_agi_carrier_post_dial_delay_seconds_count\{carrier="tertiary"\}/), undefined, 'no Dial, no observation');
  });

  test('plan is a dry run: order and no Dial', async () => {
    const before = d.lines.filter((l) => l['msg'] === 'attempt').length;
    const r = await cli(['plan', NUM, '--socket', sock]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /1\. primary .*Dial\(SIP\/15552345678@carrier-primary,30\^5,T\)/);
    assert.match(r.out, /3\. tertiary .*Dial\(IAX2\/carrier-c\/15552345678,60\^5,T\)/);
    assert.equal(d.lines.filter((l) => l['msg'] === 'attempt').length, before);
    const bad = await cli(['plan', '555&SIP/1@x', '--socket', sock]);
    assert.match(bad.out, /INVALID/);
  });

  test('drain → the carrier costs zero Dials; enable → it is dialed again; both are carrier events with source admin', async () => {
    const r = await cli(['drain', 'primary', '--socket', sock]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /primary: disabled/);
    const call = await simulateCall({ port: d.port, args: [NUM], carriers: { 'carrier-primary': { kind: 'answer' }, 'carrier-b': { kind: 'answer' } } });
    assert.ok(call.dials.every((x) => !x.includes('carrier-primary')));
    assert.equal(call.vars.get('FAILOVER_CARRIER'), 'secondary');
    const plan = await cli(['plan', NUM, '--socket', sock]);
    assert.match(plan.out, /-  primary\s+disabled\s+skipped: /);
    assert.equal((await cli(['enable', 'primary', '--socket', sock])).code, 0);
    const again = await simulateCall({ port: d.port, args: [NUM], carriers: { 'carrier-primary': { kind: 'answer' } } });
    assert.equal(again.vars.get('FAILOVER_CARRIER'), 'primary');
    const admin = () => d.lines.filter((l) => l['msg'] === 'carrier state change' && l['source'] === 'admin' && l['carrier'] === 'primary');
    // log lines leave the daemon in batches (50 ms at most): the enable's line can reach our pipe after its call
    await until(() => admin().length >= 2, 3000).catch(() => undefined);
    assert.deepEqual(admin().map((e) => e['to']), ['disabled', 'unknown']);
  });

  test('audit: every operator action is a carrier event naming who and the command, also when nothing changes', async () => {
    const before = d.lines.length;
    assert.equal((await cli(['drain', 'tertiary', '--socket', sock], { env: { SUDO_USER: 'alice' } })).code, 0);
    assert.equal((await cli(['drain', 'tertiary', '--socket', sock])).code, 0);
    assert.equal((await cli(['enable', 'tertiary', '--socket', sock])).code, 0);
    const audit = () => d.lines.slice(before).filter((l) => l['msg'] === 'carrier state change' && l['carrier'] === 'tertiary');
    // the CLI returns on the daemon's reply; the log line of the last change can reach our pipe a moment later
    await until(() => audit().length >= 3, 3000).catch(() => undefined);
    const events = audit();
    const me = userInfo();
    assert.deepEqual(events.map((e) => [e['source'], e['from'], e['to']]), [['admin', 'unknown', 'disabled'], ['admin', 'disabled', 'disabled'], ['admin', 'disabled', 'unknown']]);
    assert.match(String(events[0]?.['reason']), new RegExp(`failover-agi drain by ${me.username} \\(uid ${me.uid}, sudo from alice\\)`));
    assert.match(String(events[1]?.['reason']), /failover-agi drain by \S+ \(uid \d+\) \(state unchanged\)$/);
    assert.match(String(events[2]?.['reason']), /failover-agi enable by \S+ \(uid \d+\)/);
  });

  test('force-down --for: down, persisted to the state file; unknown carrier and bad duration refused', async () => {
    const r = await cli(['force-down', 'secondary', '--for', '10m', '--socket', sock]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /secondary: down/);
    const state = JSON.parse(readFileSync(join(d.dir, 'admin-state.json'), 'utf8')) as Record<string, { mode: string; until: number }>;
    assert.equal(state['secondary']?.mode, 'force-down');
    assert.ok((state['secondary']?.until ?? 0) > Date.now() + 9 * 60_000);
    const unknown = await cli(['drain', 'nope', '--socket', sock]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /no carrier named nope/);
    const bad = await cli(['force-down', 'secondary', '--for', 'soon', '--socket', sock]);
    assert.equal(bad.code, 2);
    assert.equal((await cli(['enable', 'secondary', '--socket', sock])).code, 0);
  });

  test('/metrics has every listed series; /healthz and /status answer', async () => {
    await simulateCall({ port: d.port, args: [NUM], carriers: { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer' } } });
    const text = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
    for (const name of [
      'failover_agi_attempts_total{carrier="primary",verdict="next",sip_code="503"}',
      'failover_agi_calls_total{route="outbound-failover",status="ANSWER"}',
      'failover_agi_failovers_total{route="outbound-failover",carrier="primary"}',
      'failover_agi_skips_total{carrier="primary",reason="disabled"}',
      'failover_agi_carrier_health{carrier="primary",state="unknown"} 1',
      'failover_agi_route_usable_carriers{route="outbound-failover"} 3',
      'failover_agi_active_calls 0',
      'failover_agi_agi_command_seconds_bucket{le="0.01",command="EXEC HangupCauseClear"}',
      'failover_agi_attempt_log_queue_depth',
      'failover_agi_attempt_log_spool_bytes',
      'failover_agi_attempt_log_write_errors',
      'failover_agi_ami_connected 0',
      'failover_agi_ami_last_event_age_seconds',
      'failover_agi_breaker_openings_total',
    ]) {
      assert.ok(text.includes(name), `missing ${name}`);
    }
    const hz = (await (await fetch(`http://127.0.0.1:${http}/healthz`)).json()) as Record<string, unknown>;
    assert.deepEqual([hz['status'], hz['ami'], hz['db'], hz['cluster']], ['ok', 'disabled', 'none', 'off']);
    const st = (await (await fetch(`http://127.0.0.1:${http}/status`)).json()) as { carriers: { name: string; last15m: { dials: number } }[] };
    assert.ok((st.carriers.find((c) => c.name === 'primary')?.last15m.dials ?? 0) >= 1);
  });

  test('secrets never appear in any log line', () => {
    const all = JSON.stringify(d.lines);
    assert.ok(!all.includes('never-log-this-ami-secret'));
    assert.ok(!all.includes('never-log-this-db-password'));
  });

  test('SIGHUP with a good config: new calls use it; with a bad one: refused, the old one stays', async () => {
    const cfg = JSON.parse(readFileSync(d.configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(d.configFile, JSON.stringify({ ...cfg, routes: [{ ...ROUTES[0], carriers: ['tertiary', 'primary'] }] }));
    d.kill('SIGHUP');
    await d.waitFor((l) => String(l['msg']).startsWith('reloaded'));
    const r = await simulateCall({ port: d.port, args: [NUM], carriers: { 'carrier-c': { kind: 'answer' } } });
    assert.equal(r.vars.get('FAILOVER_CARRIER'), 'tertiary');
    writeFileSync(d.configFile, JSON.stringify({ ...cfg, carriers: [...CARRIERS, { name: 'primary', dial: 'SIP/x' }] }));
    d.kill('SIGHUP');
    const refused = await d.waitFor((l) => String(l['msg']).startsWith('reload refused'));
    assert.match(JSON.stringify(refused['problems']), /duplicate carrier name/);
    const still = await simulateCall({ port: d.port, args: [NUM], carriers: { 'carrier-c': { kind: 'answer' } } });
    assert.equal(still.vars.get('FAILOVER_CARRIER'), 'tertiary');
  });

  test('the control socket refuses a user who is neither root nor in the service group', { skip: process.getuid?.() !== 0 ? 'needs root to run the CLI as nobody' : false }, async () => {
    const r = await cli(['status', '--socket', sock], { uid: 65534, gid: 65534 });
    assert.equal(r.code, 3);
    assert.match(r.err, /permission denied/);
  });
});

describe('admin state survives a restart', () => {
  test('a forced-down carrier is still down after the daemon restarts with the same state file', async () => {
    const d1 = await startCliDaemon();
    const sock1 = join(d1.dir, 'control.sock');
    assert.equal((await cli(['force-down', 'primary', '--socket', sock1])).code, 0);
    d1.kill('SIGTERM');
    await d1.exited;
    const d2 = await startCliDaemon({ control: { socket: join(d1.dir, 'control2.sock'), stateFile: join(d1.dir, 'admin-state.json') } });
    try {
      const r = await simulateCall({ port: d2.port, args: [NUM], carriers: { 'carrier-primary': { kind: 'answer' }, 'carrier-b': { kind: 'answer' } } });
      assert.equal(r.vars.get('FAILOVER_CARRIER'), 'secondary');
      assert.ok(r.dials.every((x) => !x.includes('carrier-primary')));
    } finally {
      d2.kill('SIGTERM');
      await d2.exited;
    }
  });
});

describe('the systemd unit', () => {
  test('systemd-analyze verify accepts it', { skip: !existsSync('/usr/bin/systemd-analyze') && 'systemd-analyze not installed' }, () => {
    const r = spawnSync('systemd-analyze', ['verify', join(ROOT, 'systemd', 'failover-agi.service')], { encoding: 'utf8' });
    const problems = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() && !/Command .* is not executable|No such file|not found|WorkingDirectory/.test(l));
    assert.deepEqual(problems, []);
  });
  test('the CLI answers --help and --version', async () => {
    const h = await cli(['--help']);
    assert.match(h.out, /force-down CARRIER/);
    const v = await cli(['--version']);
    assert.match(v.out, /^\d+\.\d+\.\d+\n$/);
  });
});
