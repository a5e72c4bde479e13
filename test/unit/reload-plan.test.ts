import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import { configView, effectiveSettings, planReload, RELOAD_RULES, reloadTableMarkdown, unchanged, withChangedFileSecrets } from '../../src/config/reload-plan.js';
import { settingKeys, valueAt } from '../../src/config/schema-keys.js';
import { formatReloadPlan } from '../../src/ops/config-diff-format.js';
import { parseControlRequest } from '../../src/ops/control-protocol.js';
import { asReloadWouldRead, DIFFERENT_SECRET, fingerprintSecrets, runningConfigAnswer } from '../../src/ops/running-config.js';
import { CARRIERS, ROUTES } from '../support/daemon.js';

const config = (overrides: Record<string, unknown> = {}): LoadedConfig =>
  loadConfig({ file: null, env: {}, overrides: { carriers: CARRIERS, routes: ROUTES, ...overrides } });
const plan = (from: Record<string, unknown>, to: Record<string, unknown>) => planReload(configView(config(from)), configView(config(to)));

describe('reload plan: the table', () => {
  test('every schema key is classified, and the table names no key the schema lacks', () => {
    const schema = settingKeys().map((k) => k.key);
    const missing = schema.filter((k) => !(k in RELOAD_RULES));
    assert.deepEqual(missing, [], `classify these in RELOAD_RULES (src/config/reload-plan.ts): ${missing.join(', ')}`);
    const extra = Object.keys(RELOAD_RULES).filter((k) => !schema.includes(k));
    assert.deepEqual(extra, [], 'keys in RELOAD_RULES that are not in the schema');
  });

  test('the schema walk finds leaves only, with their env names and secrets', () => {
    const keys = new Map(settingKeys().map((k) => [k.key, k] as const));
    assert.equal(keys.get('agi.port')?.env, 'FAILOVER_AGI_PORT');
    assert.equal(keys.get('health.window')?.env, null);
    assert.deepEqual([...keys.values()].filter((k) => k.sensitive).map((k) => k.key).sort(), ['agi.sharedKey', 'ami.secret', 'db.password']);
    assert.ok(!keys.has('agi'), 'a group is not a key');
  });

  // one changed key each: what a reload does with it
  const cases: [string, unknown, unknown, 'live' | 'restart'][] = [
    ['log.level', 'info', 'debug', 'live'],
    ['log.showNumbers', false, true, 'live'],
    ['log.pretty', false, true, 'restart'],
    ['health.consecutiveFailures', 3, 5, 'live'],
    ['health.baseEjection', 30000, 1000, 'live'],
    ['health.holdDownQuiet', 60000, 5000, 'live'],
    ['health.failureRatio', 0.5, 0.25, 'live'],
    ['agi.commandTimeout', 10000, 2000, 'live'],
    ['agi.maxConnections', 20000, 10, 'live'],
    ['agi.allowedPeers', ['127.0.0.1'], ['127.0.0.1', '10.0.0.5'], 'live'],
    ['agi.sharedKey', '', 'a-key-of-sixteen-chars', 'live'],
    ['agi.port', 4573, 4574, 'restart'],
    ['agi.host', '127.0.0.1', '0.0.0.0', 'restart'],
    ['agi.listenBacklog', 4096, 128, 'restart'],
    ['ami.host', '127.0.0.1', '10.0.0.9', 'live'],
    ['ami.secret', 'a', 'b', 'live'],
    ['ami.enabled', false, true, 'restart'],
    ['ami.staleAfter', 30000, 1000, 'live'],
    ['db.host', '', '10.0.0.2', 'restart'],
    ['db.password', 'a', 'b', 'restart'],
    ['store.spoolDir', '/var/lib/a', '/var/lib/b', 'restart'],
    ['store.flushRows', 500, 50, 'live'],
    ['http.port', 9573, 9574, 'restart'],
    ['control.socket', '/run/a.sock', '/run/b.sock', 'restart'],
    ['serverId', 'a', 'b', 'restart'],
    ['shutdown.grace', 30000, 5000, 'live'],
  ];
  for (const [key, from, to, when] of cases) {
    test(`${key}: ${JSON.stringify(from)} → ${JSON.stringify(to)} is ${when}`, () => {
      const p = plan({ [key]: from }, { [key]: to });
      assert.deepEqual(p.changes.map((c) => c.key), [key]);
      assert.deepEqual(when === 'live' ? p.applied : p.restartNeeded, [key]);
      assert.deepEqual(when === 'live' ? p.restartNeeded : p.applied, []);
    });
  }

  test('the same config: no change at all', () => {
    const p = plan({ 'log.level': 'debug' }, { 'log.level': 'debug' });
    assert.ok(unchanged(p));
    assert.match(formatReloadPlan(p, { against: 'x' }), /no change: a reload would apply nothing/);
  });

  test('the table as documentation names every key once, live before restart', () => {
    const md = reloadTableMarkdown();
    const named = [...md.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    assert.deepEqual([...named].sort(), settingKeys().map((k) => k.key).sort());
    assert.match(md, /\| restart \| `agi\.host`, `agi\.port` \| the AGI socket is bound at start \|/);
    assert.match(md, /\| live \| `log\.level` \|/);
    const whens = md.split('\n').slice(2).map((l) => l.split(' | ')[0]);
    assert.deepEqual(whens, [...whens].sort((a, b) => Number(a === '| restart') - Number(b === '| restart')));
  });

  test('docs/configuration.md holds the table as the code has it', () => {
    const page = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs', 'configuration.md'), 'utf8');
    assert.ok(page.includes(reloadTableMarkdown()), 'paste the output of reloadTableMarkdown() (src/config/reload-plan.ts) into docs/configuration.md, Reload');
  });
});

describe('reload plan: carriers and routes', () => {
  test('added, removed and changed carriers; a changed route, field by field', () => {
    const p = plan(
      {},
      {
        carriers: [{ ...CARRIERS[0], ringTimeout: 20 }, CARRIERS[1], { name: 'fourth', dial: 'SIP/${number}@d' }],
        routes: [{ ...ROUTES[0], carriers: ['fourth', 'primary'] }],
      },
    );
    assert.deepEqual(
      p.carriers.map((c) => [c.name, c.change, c.fields.map((f) => `${f.field}:${JSON.stringify(f.from)}>${JSON.stringify(f.to)}`)]),
      [
        ['primary', 'changed', ['ringTimeout:30>20']],
        ['tertiary', 'removed', []],
        ['fourth', 'added', []],
      ],
    );
    const route = p.routes[0];
    assert.equal(route?.change, 'changed');
    assert.deepEqual(route?.fields.find((f) => f.field === 'carriers')?.to, ['fourth', 'primary']);
    assert.deepEqual(p.applied, ['carriers', 'routes']);
    assert.deepEqual(p.restartNeeded, []);
    const text = formatReloadPlan(p, { against: 'old.json' });
    assert.match(text, /carrier primary\s+ringTimeout 30 → 20\s+live/);
    assert.match(text, /carrier fourth\s+added\s+live/);
    assert.match(text, /carrier tertiary\s+removed\s+live/);
    assert.match(text, /SIGHUP \(systemctl reload failover-agi\) applies every change/);
  });
});

describe('reload plan: secrets', () => {
  test('a changed secret is named, its value never shown', () => {
    const p = plan({ 'db.password': 'old-db-secret-value', 'agi.sharedKey': 'old-shared-key-0123' }, { 'db.password': 'new-db-secret-value', 'agi.sharedKey': 'new-shared-key-0123' });
    assert.deepEqual(p.changes.map((c) => [c.key, c.secret]), [['agi.sharedKey', true], ['db.password', true]]);
    const text = formatReloadPlan(p, { against: 'old.json' });
    assert.match(text, /db\.password\s+\(changed\)\s+restart needed/);
    assert.match(text, /agi\.sharedKey\s+\(changed\)\s+live/);
    for (const v of ['old-db-secret-value', 'new-db-secret-value', 'old-shared-key-0123', 'new-shared-key-0123']) assert.ok(!text.includes(v), v);
    assert.match(text, /1 change needs a restart \(db\.password\); SIGHUP applies the other 1/);
  });

  test('a key file whose content changed is named as a secret', () => {
    const p = withChangedFileSecrets(plan({}, {}), ['agi.sharedKeyFile']);
    assert.deepEqual(p.applied, ['agi.sharedKeyFile']);
    assert.equal(p.changes[0]?.secret, true);
    assert.match(formatReloadPlan(p, { against: 'x' }), /agi\.sharedKeyFile\s+\(changed\)\s+live/);
    assert.equal(withChangedFileSecrets(p, ['agi.sharedKeyFile']).changes.length, 1, 'named once');
  });

  test('over the socket: same secret → no change, other secret → changed, and the answer holds no secret', () => {
    const running = configView(config({ 'db.password': 'running-password', 'ami.secret': 'running-ami' }));
    const nonce = 'ab'.repeat(16);
    for (const [file, expect] of [
      [{ 'db.password': 'running-password', 'ami.secret': 'running-ami' }, []],
      [{ 'db.password': 'other-password', 'ami.secret': 'running-ami' }, ['db.password']],
    ] as const) {
      const mine = fingerprintSecrets(configView(config(file)), nonce);
      const answer = runningConfigAnswer({ file: null, view: running, env: {}, nonce, secrets: mine.secrets });
      const wire = JSON.stringify(answer);
      assert.ok(!wire.includes('running-password') && !wire.includes('running-ami'), 'no secret crosses the socket');
      const p = planReload(answer.view, asReloadWouldRead(mine.view, answer));
      assert.deepEqual(p.changes.map((c) => c.key), expect);
    }
  });

  test('a fingerprint under another nonce never matches', () => {
    const running = configView(config({ 'db.password': 'pw' }));
    const mine = fingerprintSecrets(configView(config({ 'db.password': 'pw' })), 'cd'.repeat(16));
    const answer = runningConfigAnswer({ file: null, view: running, env: {}, nonce: 'ab'.repeat(16), secrets: mine.secrets });
    assert.equal(answer.view.settings['db.password'], DIFFERENT_SECRET);
  });

  test('a key the daemon\'s environment sets keeps its running value: the file cannot change it', () => {
    const running = configView(config({ 'log.level': 'warn', 'db.password': 'from-env' }));
    const nonce = 'ef'.repeat(16);
    const mine = fingerprintSecrets(configView(config({ 'log.level': 'debug' })), nonce);
    const answer = runningConfigAnswer({ file: '/etc/x.json', view: running, env: { FAILOVER_AGI_LOG_LEVEL: 'warn', FAILOVER_AGI_DB_PASSWORD: 'from-env' }, nonce, secrets: mine.secrets });
    assert.deepEqual([...answer.fromEnv].sort(), ['db.password', 'log.level']);
    assert.ok(unchanged(planReload(answer.view, asReloadWouldRead(mine.view, answer))));
  });

  test('the control request: a nonce is required, fingerprints other than 64 hex digits are dropped', () => {
    assert.match(String(parseControlRequest('{"cmd":"config"}')), /nonce/);
    const r = parseControlRequest(JSON.stringify({ cmd: 'config', nonce: 'a1'.repeat(16), secrets: { 'db.password': 'f'.repeat(64), 'ami.secret': 'plain-text' } }));
    assert.deepEqual(r, { cmd: 'config', nonce: 'a1'.repeat(16), secrets: { 'db.password': 'f'.repeat(64) } });
  });
});

describe('reload plan: the settings a reload runs with', () => {
  test('live keys from the new file, restart keys as they run', () => {
    const running = config({ 'agi.port': 4573, 'log.level': 'info', 'db.host': '', 'health.consecutiveFailures': 3 }).settings;
    const next = config({ 'agi.port': 4574, 'log.level': 'debug', 'db.host': 'db1', 'health.consecutiveFailures': 2 }).settings;
    const s = effectiveSettings(running, next);
    assert.equal(s.agi.port, 4573);
    assert.equal(s.db.host, '');
    assert.equal(s.log.level, 'debug');
    assert.equal(s.health.consecutiveFailures, 2);
    assert.equal(next.agi.port, 4574, 'the new settings are not changed');
    // a key kept for a restart is still pending on the next reload
    assert.deepEqual(planReload(configView({ settings: s, routing: config().routing }), configView(config({ 'agi.port': 4574 }))).restartNeeded, ['agi.port']);
    for (const { key } of settingKeys()) {
      const want = RELOAD_RULES[key]?.live ? valueAt(next, key) : valueAt(running, key);
      assert.deepEqual(valueAt(s, key), want, key);
    }
  });
});
