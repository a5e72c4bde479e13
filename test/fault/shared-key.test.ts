import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { simulateCall } from '../sim/agi-sim.js';
import { startCliDaemon, type CliDaemon } from '../support/cli-process.js';
import { freePort } from '../support/free-port.js';

const NUM = '15552345678';
const KEY = 'k3y-for-the-test_0123456789abcdef';
const ONE_CARRIER = [{ name: 'outbound-failover', strategy: 'failover', carriers: ['primary'], stripDigits: 0 }];
const FAIL_503 = { 'carrier-primary': { kind: 'reject', sip: 503 } } as const;

async function primaryState(http: number): Promise<string> {
  const st = (await (await fetch(`http://127.0.0.1:${http}/status`)).json()) as { carriers: { name: string; state: string }[] };
  return st.carriers.find((c) => c.name === 'primary')?.state ?? 'missing';
}

async function metric(http: number, line: string): Promise<string | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
  return text.split('\n').find((l) => l.startsWith(line));
}

describe('agi.sharedKey: a local process cannot pose as Asterisk', () => {
  let d: CliDaemon;
  let http: number;
  before(async () => {
    http = await freePort();
    d = await startCliDaemon({ agi: { port: 0, sharedKey: KEY }, http: { port: http }, health: { consecutiveFailures: 3 }, routes: ONE_CARRIER, log: { level: 'debug' } });
  });
  after(async () => {
    d.kill('SIGTERM');
    await d.exited;
  });

  test('three fake 503s without the key (or with a wrong one): no command, no Dial, the carrier stays up', async () => {
    const fakes = await Promise.all([
      simulateCall({ port: d.port, args: [NUM], uniqueid: 'fake.1', carriers: FAIL_503 }),
      simulateCall({ port: d.port, script: 'outbound-failover?key=wrong-key-of-the-same-size_0123', args: [NUM], uniqueid: 'fake.2', carriers: FAIL_503 }),
      simulateCall({ port: d.port, script: 'outbound-failover?key=', args: [NUM], uniqueid: 'fake.3', carriers: FAIL_503 }),
    ]);
    for (const f of fakes) {
      assert.deepEqual(f.commands, [], 'not a single command: a fake peer learns nothing, a stale dialplan finds FAILOVER_STATUS empty');
      assert.equal(f.dials.length, 0);
    }
    assert.notEqual(await primaryState(http), 'down');
    assert.equal(await metric(http, 'failover_agi_agi_refused_connections_total{reason="key"}'), 'failover_agi_agi_refused_connections_total{reason="key"} 3');
    const refusals = d.lines.filter((l) => l['msg'] === 'AGI connection refused: no valid agi.sharedKey in the AGI URL');
    assert.deepEqual(refusals.map((l) => l['keyProblem']).sort(), ['missing', 'wrong', 'wrong']);
    assert.equal(d.lines.filter((l) => l['msg'] === 'attempt').length, 0, 'no attempt row');
  });

  test('three 503s with the key open the breaker; the key never appears in a log line', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await simulateCall({ port: d.port, script: `outbound-failover?key=${KEY}`, args: [NUM], uniqueid: `real.${i}`, carriers: FAIL_503 });
      assert.equal(r.dials.length, 1);
      assert.equal(r.vars.get('FAILOVER_STATUS'), 'EXHAUSTED');
    }
    assert.equal(await primaryState(http), 'down');
    const all = JSON.stringify(d.lines);
    assert.equal(all.includes(KEY), false, 'the key is in no log line');
    assert.equal(all.includes('wrong-key-of-the-same-size'), false, 'nor is a wrong key');
  });
});

describe('agi.sharedKeyFile', () => {
  test('an unreadable key file: the daemon refuses to start, naming the file and not a key', async () => {
    await assert.rejects(startCliDaemon({ agi: { port: 0, sharedKeyFile: '/nonexistent/agi-key' } }), /exited with 2: .*cannot read agi\.sharedKeyFile \/nonexistent\/agi-key: ENOENT/s);
  });
  test('a key too short for the AGI URL is refused', async () => {
    await assert.rejects(startCliDaemon({ agi: { port: 0, sharedKey: 'short' } }), /exited with 2: .*16 to 256 characters/s);
  });
});
