import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.js';
import { startService, type Service } from '../../src/service.js';
import { AmiSimulator } from '../sim/ami-server.js';
import { simulateCall, type Behaviour } from '../sim/agi-sim.js';
import { startCliDaemon, type CliDaemon } from '../support/cli-process.js';
import { ROUTES } from '../support/daemon.js';
import { freePort } from '../support/free-port.js';
import { memoryLog } from '../support/daemon.js';
import { AMI_CARRIERS } from '../support/sim-service.js';
import { until } from '../support/until.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli.js');
const NUM = '15552345678';

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env['PATH'], ...env } });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('exit', (code) => resolve({ code, out, err }));
  });
}

const refused = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => (s.destroy(), resolve(false)));
    s.on('error', () => resolve(true));
  });

// the primary swallows the INVITE (a carrier failure), the secondary answers
const PRIMARY_SILENT: Record<string, Behaviour> = { 'carrier-primary': { kind: 'blackhole', afterMs: 5 }, 'carrier-b': { kind: 'answer' } };

describe('SIGHUP applies every live setting and names the ones that need a restart', () => {
  let d: CliDaemon;
  let sock: string;
  let original: Record<string, unknown>;
  let changed: Record<string, unknown>;
  let newPort: number;
  const primaryDown = () => d.lines.some((l) => l['msg'] === 'carrier state change' && l['carrier'] === 'primary' && l['to'] === 'down');

  before(async () => {
    d = await startCliDaemon({
      ami: { enabled: false },
      db: { password: 'running-db-password' },
      health: { consecutiveFailures: 5 },
      log: { level: 'info' },
    });
    sock = join(d.dir, 'control.sock');
    original = JSON.parse(readFileSync(d.configFile, 'utf8')) as Record<string, unknown>;
    newPort = await freePort();
    changed = {
      ...original,
      agi: { port: newPort },
      db: { password: 'the-new-db-password' },
      health: { consecutiveFailures: 2 },
      log: { level: 'debug' },
    };
  });
  after(async () => {
    d.kill('SIGTERM');
    await d.exited;
  });

  test('before: one failure of five does not open the breaker, and no debug line is written', async () => {
    const r = await simulateCall({ port: d.port, args: [NUM], carriers: PRIMARY_SILENT });
    assert.equal(r.vars.get('FAILOVER_CARRIER'), 'secondary');
    assert.ok(!primaryDown());
    assert.ok(!d.lines.some((l) => l['level'] === 20), 'log.level info: no debug line');
  });

  test('check-config --diff against the running daemon: each change, live or restart needed, the secret only as changed', async () => {
    const unchanged = await cli(['check-config', '--diff', d.configFile, '--socket', sock]);
    assert.equal(unchanged.code, 0, unchanged.err);
    assert.match(unchanged.out, /no change: a reload would apply nothing/, 'the same secret under a fingerprint is no change');

    writeFileSync(d.configFile, JSON.stringify(changed, null, 2));
    const r = await cli(['check-config', '--diff', d.configFile, '--socket', sock]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /: OK \(3 carriers, 1 routes/);
    assert.match(r.out, new RegExp(`compared with the running daemon \\(control socket ${sock}, started from ${d.configFile}\\)`));
    assert.match(r.out, /log\.level\s+"info" → "debug"\s+live/);
    assert.match(r.out, /health\.consecutiveFailures\s+5 → 2\s+live/);
    assert.match(r.out, new RegExp(`agi\\.port\\s+0 → ${newPort}\\s+restart needed`));
    assert.match(r.out, /db\.password\s+\(changed\)\s+restart needed/);
    assert.match(r.out, /2 changes need a restart \(agi\.port, db\.password\); SIGHUP applies the other 2/);
    assert.ok(!r.out.includes('running-db-password') && !r.out.includes('the-new-db-password'));
  });

  test('SIGHUP: log.level and the breaker threshold apply at once; agi.port is reported, not applied', async () => {
    d.kill('SIGHUP');
    const line = await d.waitFor((l) => l['msg'] === 'reloaded');
    assert.deepEqual(line['applied'], ['log.level', 'health.consecutiveFailures']);
    assert.deepEqual(line['restartNeeded'], ['agi.port', 'db.password']);
    assert.deepEqual(line['carriers'], ['primary', 'secondary', 'tertiary']);
    const warn = await d.waitFor((l) => l['level'] === 40 && Array.isArray(l['restartNeeded']));
    assert.match(String(warn['msg']), /agi\.port, db\.password/);
    assert.match(JSON.stringify(warn['why']), /the AGI socket is bound at start/);

    // the run of failures so far counts: the second failure now opens the breaker (2, no longer 5)
    const r = await simulateCall({ port: d.port, args: [NUM], carriers: PRIMARY_SILENT });
    assert.equal(r.vars.get('FAILOVER_CARRIER'), 'secondary', 'the old AGI port still serves calls');
    await d.waitFor(primaryDown, 5000);
    const next = await simulateCall({ port: d.port, args: [NUM], carriers: PRIMARY_SILENT });
    assert.ok(next.dials.every((x) => !x.includes('carrier-primary')), 'the ejected carrier gets no Dial');
    // debug lines from the call's own child logger, made after the reload
    assert.ok(d.lines.some((l) => l['level'] === 20 && l['msg'] === 'attempt' && l['uniqueid'] !== undefined));
    assert.ok(await refused(newPort), 'nothing listens on the new agi.port');
    assert.ok(!JSON.stringify(d.lines).includes('the-new-db-password'), 'the new secret is never logged');
  });

  test('after the reload, --diff still shows what waits for a restart, and nothing else', async () => {
    const r = await cli(['check-config', '--diff', d.configFile, '--socket', sock]);
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.out, /log\.level|consecutiveFailures/);
    assert.match(r.out, /agi\.port\s+0 → \d+\s+restart needed/);
    assert.match(r.out, /db\.password\s+\(changed\)\s+restart needed/);
    assert.match(r.out, /2 changes need a restart \(agi\.port, db\.password\); SIGHUP has nothing else to apply/);
  });

  test('an invalid file is refused by --diff (exit 1) and by SIGHUP, which keeps everything running', async () => {
    const bad = join(d.dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...changed, log: { level: 'loud' } }));
    const r = await cli(['check-config', '--diff', bad, '--socket', sock]);
    assert.equal(r.code, 1);
    assert.match(r.err, /log\.level/);
    writeFileSync(d.configFile, JSON.stringify({ ...changed, log: { level: 'loud' }, health: { consecutiveFailures: 9 } }));
    d.kill('SIGHUP');
    await d.waitFor((l) => String(l['msg']).startsWith('reload refused'));
    const again = await cli(['check-config', '--diff', bad, '--socket', sock]);
    assert.equal(again.code, 1);
    writeFileSync(d.configFile, JSON.stringify(changed, null, 2));
    const still = await cli(['check-config', '--diff', d.configFile, '--socket', sock]);
    assert.doesNotMatch(still.out, /consecutiveFailures|log\.level/, 'the refused file changed nothing');
  });
});

describe('check-config --against and without a daemon', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fa-diff-'));
  const carriers = [
    { name: 'primary', dial: 'SIP/${number}@carrier-primary', ringTimeout: 30 },
    { name: 'secondary', dial: 'PJSIP/${number}@carrier-b' },
  ];
  const oldFile = join(dir, 'old.json');
  const newFile = join(dir, 'new.json');
  writeFileSync(oldFile, JSON.stringify({ ami: { secret: 'old-ami-secret' }, carriers, routes: [{ name: 'out', carriers: ['primary', 'secondary'] }] }));
  writeFileSync(
    newFile,
    JSON.stringify({
      agi: { listenBacklog: 128 },
      ami: { secret: 'new-ami-secret', actionTimeout: 2000 },
      carriers: [{ ...carriers[0], ringTimeout: 20 }, carriers[1], { name: 'tertiary', dial: 'IAX2/carrier-c/${number}' }],
      routes: [{ name: 'out', carriers: ['primary', 'secondary', 'tertiary'], maxAttempts: 2 }],
    }),
  );

  test('two files offline: every change with old → new and live or restart needed', async () => {
    const r = await cli(['check-config', newFile, '--against', oldFile]);
    assert.equal(r.code, 0, r.err);
    assert.equal(
      r.out,
      `${newFile}: OK (3 carriers, 1 routes: out=failover[primary,secondary,tertiary])
compared with ${oldFile}:
  KEY                CHANGE                                                                 ON SIGHUP
  agi.listenBacklog  4096 → 128                                                             restart needed
  ami.secret         (changed)                                                              live
  ami.actionTimeout  5000 → 2000                                                            live
  carrier primary    ringTimeout 30 → 20                                                    live
  carrier tertiary   added                                                                  live
  route out          carriers ["primary","secondary"] → ["primary","secondary","tertiary"]  live
1 change needs a restart (agi.listenBacklog); SIGHUP applies the other 5
`,
    );
  });

  test('a file against itself: no change', async () => {
    const r = await cli(['check-config', oldFile, '--against', oldFile]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /no change: a reload would apply nothing/);
  });

  test('an invalid OLDFILE is exit 1, naming it', async () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"agi": ');
    const r = await cli(['check-config', newFile, '--against', broken]);
    assert.equal(r.code, 1);
    assert.match(r.err, /broken\.json is not valid JSON/);
  });

  test('--diff with no daemon: says so, exit 3', async () => {
    const r = await cli(['check-config', '--diff', newFile], { FAILOVER_AGI_CONTROL_SOCKET: join(dir, 'none.sock') });
    assert.equal(r.code, 3);
    assert.match(r.err, /cannot compare with the running daemon: the daemon is not running \(no control socket at .*none\.sock\)/);
    assert.match(r.err, /--against OLDFILE/);
  });

  test('--help with --diff prints usage and touches no socket; an unknown option is a usage error', async () => {
    const h = await cli(['check-config', '--diff', newFile, '--help'], { FAILOVER_AGI_CONTROL_SOCKET: join(dir, 'none.sock') });
    assert.equal(h.code, 0);
    assert.equal(h.err, '');
    assert.match(h.out, /^Usage: failover-agi check-config FILE \[--diff/);
    const u = await cli(['check-config', newFile, '--dif']);
    assert.equal(u.code, 2);
    assert.match(u.err, /Unknown option '--dif'/);
  });
});

describe('a reload that changes AMI settings logs in again with them', () => {
  let a: AmiSimulator;
  let b: AmiSimulator;
  let svc: Service;
  let file: string;
  let base: Record<string, unknown>;
  const state = (c: string) => svc.health.snapshot().get(c)?.state;

  before(async () => {
    a = await AmiSimulator.start();
    b = await AmiSimulator.start();
    for (const sim of [a, b]) {
      sim.setSipPeer('carrier-primary', 'Reachable');
      sim.setEndpoint('carrier-b', ['carrier-b'], [{ aor: 'carrier-b', uri: 'sip:carrier-b@127.0.0.1:5072', status: 'Reachable', rttUsec: 1500 }]);
      sim.setIaxPeer('carrier-c', 'Reachable');
    }
    const dir = mkdtempSync(join(tmpdir(), 'fa-reload-ami-'));
    file = join(dir, 'config.json');
    base = {
      agi: { port: 0 },
      http: { port: 0 },
      ami: { enabled: true, port: a.port, secret: 'sim-secret', reconnectMin: 20, reconnectMax: 100 },
      store: { spoolDir: join(dir, 'spool') },
      control: { socket: join(dir, 'c.sock'), stateFile: join(dir, 's.json') },
      carriers: AMI_CARRIERS,
      routes: ROUTES,
    };
    writeFileSync(file, JSON.stringify(base));
    svc = await startService({ config: loadConfig({ file, env: {}, requireRoutes: true }), configFile: file, log: memoryLog('warn').log });
    await until(() => state('primary') === 'up' && state('secondary') === 'up');
  });
  after(async () => {
    await svc.stop();
    await a.close();
    await b.close();
  });

  test('ami.port: the old AMI is let go, the new one logged into and resynced; carrier states stand meanwhile', async () => {
    const resyncsBefore = b.actionsNamed('SIPpeerstatus').length;
    writeFileSync(file, JSON.stringify({ ...base, ami: { ...(base['ami'] as object), port: b.port } }));
    const r = await svc.reload();
    assert.ok(r.ok);
    assert.deepEqual(r.ok && r.plan.applied, ['ami.port']);
    assert.equal(state('primary'), 'up', 'states stand while AMI logs in again');
    await until(() => b.loggedIn() === 1 && a.loggedIn() === 0);
    await until(() => b.actionsNamed('SIPpeerstatus').length > resyncsBefore);
    // the new AMI is the one followed now
    b.setSipPeer('carrier-primary', 'Unreachable');
    await until(() => state('primary') === 'down');
    assert.ok(svc.status().ami.connected);
  });

  test('ami.enabled is reported as needing a restart and AMI keeps running', async () => {
    writeFileSync(file, JSON.stringify({ ...base, ami: { ...(base['ami'] as object), port: b.port, enabled: false } }));
    const r = await svc.reload();
    assert.ok(r.ok);
    assert.deepEqual(r.ok && r.plan.restartNeeded, ['ami.enabled']);
    assert.deepEqual(r.ok && r.plan.applied, []);
    assert.equal(b.loggedIn(), 1);
    assert.ok(svc.status().ami.connected);
  });
});
