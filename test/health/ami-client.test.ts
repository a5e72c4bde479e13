import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { AmiSimulator, message, peerStatusEvent } from '../sim/ami-server.js';
import { AmiClient, AmiError, type AmiClientOptions } from '../../src/health/ami-client.js';
import { normalizeMessage, sanitizeFields, type AmiMessage } from '../../src/health/ami-message.js';
import { memoryLog, sleep, waitFor } from './helpers.js';

const SECRET = 'sim-secret';

interface Rig {
  sim: AmiSimulator;
  client: AmiClient;
  logs: ReturnType<typeof memoryLog>;
  events: AmiMessage[];
  failures: AmiError[];
  downs: AmiError[];
  readies: number;
}

const rigs: Rig[] = [];

async function rig(opts: Partial<AmiClientOptions> = {}, sim?: AmiSimulator): Promise<Rig> {
  const s = sim ?? (await AmiSimulator.start());
  const logs = memoryLog();
  const client = new AmiClient(
    { host: '127.0.0.1', port: s.port, username: 'failover-agi', secret: SECRET, reconnectMin: 20, reconnectMax: 80, actionTimeout: 300, ...opts },
    { logger: logs.log },
  );
  const r: Rig = { sim: s, client, logs, events: [], failures: [], downs: [], readies: 0 };
  client.on('event', (e) => r.events.push(e));
  client.on('failure', (e) => r.failures.push(e));
  client.on('down', (e) => r.downs.push(e));
  client.on('ready', () => r.readies++);
  rigs.push(r);
  return r;
}

afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.client.stop();
    await r.sim.close();
  }
});

describe('AMI client over TCP against the simulator', () => {
  test('logs in, signals ready, then hands over FullyBooted; the secret never reaches the log', async () => {
    const r = await rig();
    const order: string[] = [];
    r.client.on('ready', () => order.push('ready'));
    r.client.on('event', (e) => order.push(e['event'] ?? '?'));
    r.client.start();
    await waitFor(() => order.length >= 2, 2000, 'ready and FullyBooted');
    assert.deepEqual(order, ['ready', 'FullyBooted']);
    assert.equal(r.client.connected, true);
    const login = r.sim.actionsNamed('login')[0];
    assert.equal(login?.headers['username'], 'failover-agi');
    assert.equal(login?.headers['secret'], SECRET);
    assert.ok(!r.logs.text().includes(SECRET));
    assert.equal(r.client.stats().connects, 1);
  });

  test('a refused login is a clear auth error, retried with backoff until it works', async () => {
    const r = await rig();
    r.sim.refuseLogins = true;
    r.client.start();
    await waitFor(() => r.failures.length >= 3, 2000, 'three refused logins');
    const f = r.failures[0];
    assert.ok(f instanceof AmiError);
    assert.equal(f.kind, 'auth');
    assert.match(f.message, /AMI login as "failover-agi" refused by 127\.0\.0\.1:\d+: Authentication failed/);
    assert.equal(r.client.connected, false);
    assert.ok(r.client.stats().loginFailures >= 3);
    const errors = r.logs.lines().filter((l) => l['level'] === 50);
    assert.equal(errors.length, 1, 'the same failure is logged once, repeats at debug');
    assert.match(String(errors[0]?.['msg']), /AMI login failed: AMI login as "failover-agi" refused/);
    assert.ok(!r.logs.text().includes(SECRET));
    r.sim.refuseLogins = false;
    await waitFor(() => r.client.connected, 2000, 'login once Asterisk accepts it');
    assert.equal(r.client.stats().lastError?.kind, 'auth');
  });

  test('connection refused and login timeout are told apart', async () => {
    const r = await rig();
    await r.sim.stopListening();
    r.client.start();
    await waitFor(() => r.failures.length >= 1, 2000, 'a refused connect');
    assert.equal(r.failures[0]?.kind, 'refused');
    assert.match(r.failures[0]?.message ?? '', /connection refused by 127\.0\.0\.1:\d+/);
    r.sim.silent = true;
    await r.sim.restart();
    await waitFor(() => r.failures.some((f) => f.kind === 'timeout'), 3000, 'a login timeout');
    assert.match(r.failures.find((f) => f.kind === 'timeout')?.message ?? '', /no reply to Login from 127\.0\.0\.1:\d+ within 300 ms/);
    r.sim.silent = false;
    await waitFor(() => r.client.connected, 3000, 'login once Asterisk answers');
  });

  test('reconnect delays double from reconnectMin up to reconnectMax', async () => {
    const r = await rig({ reconnectMin: 25, reconnectMax: 100 });
    await r.sim.stopListening();
    const at: number[] = [];
    r.client.on('failure', () => at.push(Date.now()));
    r.client.start();
    await waitFor(() => at.length >= 5, 3000, 'five failures');
    const gaps = at.slice(1).map((t, i) => t - (at[i] as number));
    // expected 25, 50, 100, 100, give or take a timer's lateness
    const near = (got: number | undefined, want: number) => got !== undefined && got >= want - 10 && got < want + 30;
    assert.ok(near(gaps[0], 25) && near(gaps[1], 50) && near(gaps[2], 100) && near(gaps[3], 100), `gaps ${gaps}`);
  });

  test('after a drop: down, pending actions rejected at once, reconnect, ready again', async () => {
    const r = await rig();
    r.client.start();
    await waitFor(() => r.client.connected);
    r.sim.ignored.add('Ping');
    const pending = r.client.action({ Action: 'Ping' });
    await waitFor(() => r.sim.actionsNamed('Ping').length === 1);
    const t0 = Date.now();
    r.sim.dropAll();
    await assert.rejects(pending, (e: AmiError) => e.kind === 'disconnected' && /AMI connection lost/.test(e.message));
    assert.ok(Date.now() - t0 < 100, 'rejected on the drop, not on the timeout');
    assert.equal(r.downs.length, 1);
    await waitFor(() => r.readies === 2, 2000, 'second login');
    const s = r.client.stats();
    assert.deepEqual([s.connects, s.disconnects, s.pendingActions], [2, 1, 0]);
  });

  test('actions reject at once while disconnected, and time out (listener gone) when unanswered', async () => {
    const r = await rig();
    const t0 = Date.now();
    await assert.rejects(r.client.action({ Action: 'Ping' }), (e: AmiError) => e.kind === 'disconnected' && e.message === 'AMI not connected: Ping not sent');
    await assert.rejects(r.client.list({ Action: 'SIPpeerstatus' }), (e: AmiError) => e.kind === 'disconnected');
    assert.ok(Date.now() - t0 < 50);
    r.client.start();
    await waitFor(() => r.client.connected);
    r.sim.ignored.add('SIPpeerstatus');
    const t1 = Date.now();
    await assert.rejects(r.client.list({ Action: 'SIPpeerstatus' }), (e: AmiError) => e.kind === 'timeout' && /SIPpeerstatus: no reply within 300 ms/.test(e.message));
    assert.ok(Date.now() - t1 >= 295);
    assert.equal(r.client.stats().pendingActions, 0);
    assert.equal(r.client.stats().actionTimeouts, 1);
    assert.equal((await r.client.action({ Action: 'Ping' }))['ping'], 'Pong', 'the connection still works');
  });

  test('an Error response rejects with Asterisk\'s message', async () => {
    const r = await rig();
    r.client.start();
    await waitFor(() => r.client.connected);
    r.sim.denied.add('SIPpeerstatus');
    await assert.rejects(r.client.list({ Action: 'SIPpeerstatus' }), (e: AmiError) => e.kind === 'rejected' && e.message === 'SIPpeerstatus: Permission denied');
    // res_pjsip's message ends in \n: the reply still parses, and the stray blank line is harmless
    await assert.rejects(r.client.list({ Action: 'PJSIPShowEndpoints' }), (e: AmiError) => e.kind === 'rejected' && e.message === 'PJSIPShowEndpoints: No endpoints found');
    assert.equal((await r.client.action({ Action: 'Ping' }))['response'], 'Success');
  });

  test('event lists are collected by ActionID, interleaved with other lists and live events', async () => {
    const r = await rig();
    r.client.start();
    await waitFor(() => r.client.connected);
    r.sim.ignored.add('SIPpeerstatus');
    r.sim.ignored.add('IAXpeerlist');
    const a = r.client.list({ Action: 'SIPpeerstatus' });
    const b = r.client.list({ Action: 'IAXpeerlist' });
    await waitFor(() => r.sim.actionsNamed('IAXpeerlist').length === 1);
    const idA = r.sim.actionsNamed('SIPpeerstatus')[0]?.headers['actionid'] ?? '';
    const idB = r.sim.actionsNamed('IAXpeerlist')[0]?.headers['actionid'] ?? '';
    assert.notEqual(idA, idB);
    const item = (id: string, peer: string) => message([['Event', 'PeerStatus'], ['Privilege', 'System'], ['ChannelType', 'SIP'], ['Peer', `SIP/${peer}`], ['PeerStatus', 'Reachable'], ['Time', 5], ['ActionID', id]]);
    r.sim.emit(
      message([['Response', 'Success'], ['ActionID', idA], ['EventList', 'start'], ['Message', 'Peer status will follow']]) +
        message([['Response', 'Success'], ['ActionID', idB], ['EventList', 'start'], ['Message', 'IAX Peer status list will follow']]) +
        item(idA, 'a1') +
        peerStatusEvent('SIP', 'live', 'Unreachable') +
        message([['Event', 'PeerEntry'], ['ActionID', idB], ['ObjectName', 'i1'], ['Status', 'OK (3 ms)']]) +
        item(idA, 'a2') +
        message([['Event', 'PeerlistComplete'], ['ActionID', idB], ['EventList', 'Complete'], ['ListItems', 1]]) +
        message([['Event', 'SIPpeerstatusComplete'], ['ActionID', idA], ['EventList', 'Complete'], ['ListItems', 2]]),
    );
    const [la, lb] = await Promise.all([a, b]);
    assert.deepEqual(la.items.map((i) => i['peer']), ['SIP/a1', 'SIP/a2']);
    assert.equal(la.complete?.['listitems'], '2');
    assert.deepEqual(lb.items.map((i) => i['objectname']), ['i1']);
    assert.deepEqual(r.events.filter((e) => e['event'] === 'PeerStatus').map((e) => e['peer']), ['SIP/live'], 'list items never leak into live events');
  });

  test('CR/LF in values cannot inject headers or actions', async () => {
    const r = await rig();
    r.client.start();
    await waitFor(() => r.client.connected);
    await assert.rejects(r.client.list({ Action: 'PJSIPShowEndpoint', Endpoint: 'carrier-b\r\nAction: Hangup\r\nChannel: .*\r\n\r\nAction: Ping' }));
    const got = r.sim.actionsNamed('PJSIPShowEndpoint')[0];
    assert.equal(got?.headers['endpoint'], 'carrier-bAction: HangupChannel: .*Action: Ping');
    assert.equal(r.sim.actionsNamed('Hangup').length, 0);
    assert.equal(r.sim.actions.filter((a) => a.action === 'Ping').length, 0);
    assert.deepEqual(sanitizeFields({ 'Bad\r\nKey': 'v\n', n: 5, b: true, u: undefined }), { BadKey: 'v', n: '5', b: 'true' });
  });

  test('a client whose secret holds CR/LF sends it stripped', async () => {
    const sim = await AmiSimulator.start({ users: { 'failover-agi': 'sim-secretEvents: off' } });
    const r = await rig({ secret: 'sim-secret\r\nEvents: off' }, sim);
    r.client.start();
    await waitFor(() => r.client.connected, 2000, 'login with the stripped secret');
    assert.equal(sim.actionsNamed('login')[0]?.headers['events'], undefined);
  });

  test('keys come lower-cased and values trimmed; repeated keys keep the first', () => {
    assert.deepEqual(normalizeMessage({ Event: 'PeerStatus ', peer: [' SIP/a', 'SIP/b'], variable: { a: '1' }, n: 3 }), { event: 'PeerStatus', peer: 'SIP/a', n: '3' });
  });

  test('a Ping without reply drops a silently dead connection', async () => {
    const r = await rig({ pingInterval: 40, actionTimeout: 100 });
    r.client.start();
    await waitFor(() => r.client.connected);
    r.sim.ignored.add('Ping');
    await waitFor(() => r.downs.length === 1, 2000, 'the keepalive to give up');
    assert.equal(r.downs[0]?.kind, 'timeout');
    assert.match(r.downs[0]?.message ?? '', /no reply to Ping within 100 ms/);
    r.sim.ignored.clear();
    await waitFor(() => r.readies === 2, 2000, 'reconnect');
  });

  test('Events narrows what the session receives', async () => {
    const r = await rig({ eventMask: 'system' });
    r.client.start();
    await waitFor(() => r.sim.actionsNamed('Events').length === 1);
    assert.equal(r.sim.actionsNamed('Events')[0]?.headers['eventmask'], 'system');
    await sleep(20);
    r.sim.emit(message([['Event', 'Newchannel'], ['Privilege', 'call,all'], ['Channel', 'SIP/x-1']]));
    r.sim.emit(peerStatusEvent('SIP', 'x', 'Reachable'));
    await waitFor(() => r.events.some((e) => e['event'] === 'PeerStatus'));
    assert.equal(r.events.some((e) => e['event'] === 'Newchannel'), false);
  });

  test('stop() ends the loop: no reconnect afterwards', async () => {
    const r = await rig();
    r.client.start();
    await waitFor(() => r.client.connected);
    await r.client.stop();
    assert.equal(r.client.connected, false);
    const n = r.sim.actionsNamed('login').length;
    await sleep(100);
    assert.equal(r.sim.actionsNamed('login').length, n);
    assert.equal(r.sim.connections(), 0);
  });
});
