import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { simulateCall, type Behaviour } from '../sim/agi-sim.js';
import { CARRIERS, startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { until } from '../support/until.js';

/**
 * Each defect the real Asterisk 20 showed, played through the simulator (whose behaviour cites the captures in
 * ../shared/asterisk/captures/multi). test/conformance replays the captures themselves byte for byte.
 */
const NUM = '15552345678';

describe('every attempt is judged by what it produced', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon();
  });
  after(async () => d.stop());
  const call = (carriers: Record<string, Behaviour | Behaviour[]>, extra: Partial<Parameters<typeof simulateCall>[0]> = {}) =>
    simulateCall({ port: d.port, args: [NUM], carriers, ...extra });

  test('stale cause (seq_503_then_ringout): 503, then a ring-out that still reads 34 → stop, nobody rung a third time', async () => {
    const before = d.sink.attempts.length;
    const r = await call({ 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'ring-no-answer', afterMs: 10 }, 'carrier-c': { kind: 'answer' } });
    assert.equal(r.dials.length, 2);
    assert.equal(r.vars.get('HANGUPCAUSE'), '34', 'the simulator keeps the sticky cause, as Asterisk does');
    assert.equal(r.vars.get('FAILOVER_STATUS'), 'NOANSWER');
    assert.equal(r.vars.get('FAILOVER_CAUSE'), '16', "the ring-out's own cause, not the 503's");
    const recs = d.sink.attempts.slice(before);
    assert.deepEqual(recs.map((x) => [x.verdict, x.dialStatus, x.cause]), [['next', 'CONGESTION', 34], ['stop', 'NOANSWER', 16]]);
  });

  test('stale cause: a progress timeout after a 503 has no cause of its own (not 34)', async () => {
    const before = d.sink.attempts.length;
    await call({ 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'blackhole', afterMs: 5 }, 'carrier-c': { kind: 'answer' } });
    const recs = d.sink.attempts.slice(before);
    assert.deepEqual(recs.map((x) => [x.verdict, x.cause]), [['next', 34], ['next', null], ['answered', 16]]);
  });

  test('ringing, then 503 (sip_180_then_503): stop as callee alerted, counted against the carrier', async () => {
    const before = d.sink.attempts.length;
    const r = await call({ 'carrier-primary': { kind: 'reject', sip: 503, after: '180' }, 'carrier-b': { kind: 'answer' } });
    assert.equal(r.dials.length, 1, 'the person may have heard it ring: never ring them again');
    assert.equal(r.vars.get('FAILOVER_STATUS'), 'CONGESTION');
    assert.equal(r.vars.get('FAILOVER_CAUSE'), '34');
    assert.match(d.sink.attempts[before]?.reason ?? '', /^callee alerted \(ringing\)/);
  });

  test('early media, then 503 (sip_183_then_503): stop as well', async () => {
    const r = await call({ 'carrier-primary': { kind: 'reject', sip: 503, after: '183' }, 'carrier-b': { kind: 'answer' } });
    assert.equal(r.dials.length, 1);
  });

  test('codec mismatch after 180 (codec_mismatch): Dial returns 0, CHANUNAVAIL/58, stop as alerted', async () => {
    const r = await call({ 'carrier-primary': { kind: 'codec-mismatch' }, 'carrier-b': { kind: 'answer' } });
    assert.equal(r.dials.length, 1);
    assert.equal(r.vars.get('FAILOVER_STATUS'), 'CHANUNAVAIL');
    assert.equal(r.vars.get('FAILOVER_CAUSE'), '58');
  });

  test('answered, callee hangs up (answer_callee_bye): Dial -1 without HANGUP: the caller is up and every result is set', async () => {
    const r = await call({ 'carrier-primary': { kind: 'answer', talkMs: 10 } });
    assert.equal(r.hangupSent, false);
    assert.deepEqual(r.sets.map(([k]) => k), ['FAILOVER_STATUS', 'FAILOVER_STATUS', 'FAILOVER_CARRIER', 'FAILOVER_ATTEMPTS', 'FAILOVER_CAUSE', 'DIALSTATUS']);
    assert.equal(r.vars.get('FAILOVER_STATUS'), 'ANSWER');
  });

  test('caller hangs up while it rings (seq_ringout_then_cancel): CANCEL, no second Dial', async () => {
    const r = await call({ 'carrier-primary': { kind: 'caller-hangup', afterMs: 5 }, 'carrier-b': { kind: 'answer' } });
    assert.equal(r.dials.length, 1);
    assert.equal(r.deadDials.length, 0);
    assert.equal(r.vars.get('FAILOVER_STATUS'), 'CANCEL');
  });

  test('no HANGUPCAUSE lookup without a key: unreachable, swallowed and timer-B attempts make Asterisk log nothing', async () => {
    const r = await call({ 'carrier-primary': { kind: 'unreachable' }, 'carrier-b': { kind: 'blackhole', afterMs: 2 }, 'carrier-c': { kind: 'timer-b', afterMs: 2 } });
    assert.equal(r.dials.length, 3);
    assert.deepEqual(r.warnings, []);
    assert.ok(!r.commands.some((c) => c.includes('HANGUPCAUSE(,')));
  });

  test('DIALING is set before the first Dial, so a daemon gone mid-Dial can never read as "no Dial placed"', async () => {
    const before = d.sink.attempts.length;
    // Asterisk goes right after the Dial's reply (command 2: the arming read, then the Dial)
    const r = await call({ 'carrier-primary': { kind: 'answer', talkMs: 50 } }, { dropAfterCommand: 2 });
    assert.equal(r.dials.length, 1);
    // the Dial's record is written when the daemon sees the socket go, which may be after the simulator resolves
    await until(() => d.sink.attempts.length > before);
    assert.equal(d.sink.attempts[before]?.verdict, 'stop');
    assert.equal(r.vars.get('FAILOVER_STATUS'), 'DIALING');
    assert.deepEqual(r.sets, [['FAILOVER_STATUS', 'DIALING']], 'set once, by the read before the Dial');
    const firstDial = r.commands.findIndex((c) => c.startsWith('EXEC Dial'));
    assert.equal(firstDial, 1, 'one round trip before the Dial');
    assert.match(r.commands[0] ?? '', /^GET FULL VARIABLE ".*\$\{SET\(FAILOVER_STATUS=DIALING\)\}/);
  });

  test('an Asterisk without func_logic (SET() expands to nothing): DIALING is set by SET VARIABLE, still before the first Dial', async () => {
    const before = d.sink.attempts.length;
    const r = await call({ 'carrier-primary': { kind: 'answer', talkMs: 50 } }, { withoutFuncLogic: true, dropAfterCommand: 3 });
    assert.equal(r.dials.length, 1);
    await until(() => d.sink.attempts.length > before);
    assert.equal(r.vars.get('FAILOVER_STATUS'), 'DIALING');
    assert.deepEqual(r.commands.slice(0, 3).map((c) => c.split(' ').slice(0, 2).join(' ')), ['GET FULL', 'SET VARIABLE', 'EXEC Dial']);
    assert.equal(r.commands[1], 'SET VARIABLE FAILOVER_STATUS "DIALING"');
  });

  test('an Asterisk without func_logic: the result variables too are set one SET VARIABLE each, FAILOVER_STATUS first', async () => {
    const r = await call({ 'carrier-primary': { kind: 'answer', talkMs: 5 } }, { withoutFuncLogic: true });
    assert.deepEqual(r.commands.slice(-5), ['SET VARIABLE FAILOVER_STATUS "ANSWER"', 'SET VARIABLE FAILOVER_CARRIER "primary"', 'SET VARIABLE FAILOVER_ATTEMPTS "1"', 'SET VARIABLE FAILOVER_CAUSE "16"', 'SET VARIABLE DIALSTATUS "ANSWER"']);
    assert.ok(!r.commands.slice(2).some((c) => c.includes('${SET(')), 'SET() is not tried again once the arm showed it missing');
    // IF is func_logic's too: the plain outcome read, then the leg by its key
    assert.ok(!r.commands.some((c) => c.includes('${IF(')));
    assert.match(r.commands[4] ?? '', /^GET FULL VARIABLE "\$\{HANGUPCAUSE\(SIP\/carrier-primary-[0-9a-f]{8},ast\)\}/);
    assert.deepEqual(r.warnings, []);
    assert.equal(r.vars.get('FAILOVER_STATUS'), 'ANSWER');
  });

  test('a reply that does not show every value SET() set: the daemon sets each by SET VARIABLE, in the same order', async () => {
    // command 4 is the result read of a one-attempt call (arm, Dial, outcome with its leg, results); its reply loses a value
    const r = await call({ 'carrier-primary': { kind: 'reject', sip: 486 } }, { rawReplies: { 4: '200 result=1 (BUSY|primary|1||BUSY)\n' } });
    assert.match(r.commands[3] ?? '', /^GET FULL VARIABLE "\$\{SET\(FAILOVER_STATUS=BUSY\)\}/);
    assert.deepEqual(r.commands.slice(4), ['SET VARIABLE FAILOVER_STATUS "BUSY"', 'SET VARIABLE FAILOVER_CARRIER "primary"', 'SET VARIABLE FAILOVER_ATTEMPTS "1"', 'SET VARIABLE FAILOVER_CAUSE "17"', 'SET VARIABLE DIALSTATUS "BUSY"']);
    assert.deepEqual([r.vars.get('FAILOVER_STATUS'), r.vars.get('FAILOVER_CAUSE')], ['BUSY', '17']);
  });

  test('no route: no arm, so the two result variables go by SET VARIABLE', async () => {
    const r = await simulateCall({ port: d.port, script: 'no-such-route', args: [NUM], carriers: {} });
    assert.deepEqual(r.commands, ['SET VARIABLE FAILOVER_STATUS "NOROUTE"', 'SET VARIABLE FAILOVER_ATTEMPTS "0"']);
  });

  test('a second AGI run on the channel (two_agi_runs_same_channel) starts clean: leftovers decide nothing', async () => {
    const before = d.sink.attempts.length;
    const leftovers = { DIALSTATUS: 'CONGESTION', HANGUPCAUSE: '34', FAILOVER_STATUS: 'EXHAUSTED', FAILOVER_CAUSE: '34' };
    const r = await call({ 'carrier-primary': { kind: 'blackhole', afterMs: 2 }, 'carrier-b': { kind: 'reject', sip: 486 } }, { initialVars: leftovers, initialKeys: { 'SIP/carrier-primary-00000031': 'SIP 503 Service Unavailable' } });
    assert.equal(r.vars.get('FAILOVER_STATUS'), 'BUSY');
    assert.equal(r.vars.get('FAILOVER_CAUSE'), '17');
    assert.equal(r.commands[1], 'EXEC HangupCauseClear ""', 'the first run left keys: they are cleared before the first Dial');
    // the swallowed INVITE left no key (the outcome read lists none): nothing to clear before the second Dial
    assert.equal(r.commands.filter((c) => c.startsWith('EXEC HangupCauseClear')).length, 1);
    const recs = d.sink.attempts.slice(before);
    assert.deepEqual(recs.map((x) => [x.verdict, x.cause, x.sipCode]), [['next', null, null], ['stop', 17, 486]], 'the first run\'s 34 and its 503 leg are not this run\'s');
  });

  test('VICIdial disposition pair: a 404 exports CHANUNAVAIL with cause 1; every carrier failing exports the last failure', async () => {
    const r404 = await call({ 'carrier-primary': { kind: 'reject', sip: 404 } });
    assert.deepEqual([r404.vars.get('DIALSTATUS'), r404.vars.get('FAILOVER_CAUSE')], ['CHANUNAVAIL', '1']);
    const ex = await call({ 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'reject', sip: 502 }, 'carrier-c': { kind: 'unreachable' } });
    assert.deepEqual([ex.vars.get('FAILOVER_STATUS'), ex.vars.get('DIALSTATUS'), ex.vars.get('FAILOVER_CAUSE')], ['EXHAUSTED', 'CHANUNAVAIL', '20']);
  });
});

describe('carrier policy', () => {
  test('retryAfterRinging: true lets a failure after 180 go on to the next carrier', async () => {
    const carriers = [{ ...CARRIERS[0], retryAfterRinging: true }, CARRIERS[1], CARRIERS[2]];
    const p = await startTestDaemon({ carriers });
    try {
      const r = await simulateCall({ port: p.port, args: [NUM], carriers: { 'carrier-primary': { kind: 'reject', sip: 503, after: '180' }, 'carrier-b': { kind: 'answer' } } });
      assert.equal(r.dials.length, 2);
      assert.equal(r.vars.get('FAILOVER_STATUS'), 'ANSWER');
    } finally {
      await p.stop();
    }
  });

  test('default dial options carry no t: the callee cannot transfer an outbound trunk call', async () => {
    const p = await startTestDaemon();
    try {
      const r = await simulateCall({ port: p.port, args: [NUM], carriers: { 'carrier-primary': { kind: 'answer' } } });
      assert.match(r.dials[0] ?? '', /,T$/);
    } finally {
      await p.stop();
    }
  });
});

describe('call budget', () => {
  test("route callBudget cuts each Dial's ring timer to what is left and starts no Dial once it is spent", async () => {
    const p = await startTestDaemon({ routes: [{ name: 'outbound-failover', carriers: ['primary', 'secondary', 'tertiary'], callBudget: 2 }] });
    try {
      const r = await simulateCall({ port: p.port, args: [NUM], carriers: { 'carrier-primary': { kind: 'blackhole', afterMs: 1100 }, 'carrier-b': { kind: 'answer' } } });
      assert.match(r.dials[0] ?? '', /^SIP\/15552345678@carrier-primary,(2|1\.9)\^(2|1\.9),T$/);
      assert.equal(r.dials.length, 1);
      assert.equal(r.vars.get('FAILOVER_STATUS'), 'EXHAUSTED');
      assert.deepEqual(p.sink.attempts.map((a) => [a.verdict, a.carrier]), [['next', 'primary'], ['skipped', 'secondary'], ['skipped', 'tertiary'], ['exhausted', '']]);
      assert.match(p.sink.attempts[1]?.reason ?? '', /call budget of 2 s spent/);
    } finally {
      await p.stop();
    }
  });

  test('AGI argument 4 sets the budget per call; argument 3 (CAMPDTO) caps the ring and the budget', async () => {
    const p = await startTestDaemon();
    try {
      const a4 = await simulateCall({ port: p.port, args: [NUM, 'CAMP', '', '12'], carriers: { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer' } } });
      // the second Dial gets what the first left of the 12 s, in tenths (Dial reads them with %lf)
      assert.match(a4.dials[0] ?? '', /^SIP\/15552345678@carrier-primary,(12|11\.9)\^5,T$/);
      assert.match(a4.dials[1] ?? '', /^PJSIP\/15552345678@carrier-b,(12|11\.[5-9])\^5,T$/);
      const a3 = await simulateCall({ port: p.port, args: [NUM, 'CAMP', '20'], carriers: { 'carrier-primary': { kind: 'answer' } } });
      assert.match(a3.dials[0] ?? '', /^SIP\/15552345678@carrier-primary,(20|19\.9)\^5,T$/);
    } finally {
      await p.stop();
    }
  });
});

describe('simultaneous legs', () => {
  const routes = [{ name: 'outbound-failover', strategy: 'simultaneous', carriers: ['primary', 'secondary', 'tertiary'], maxAttempts: 2 }];
  test('one leg 486 while the other says 503 (simultaneous_486_503): BUSY for the callee, not EXHAUSTED; maxAttempts bounds the legs', async () => {
    const p = await startTestDaemon({ routes });
    try {
      const r = await simulateCall({ port: p.port, args: [NUM], carriers: { 'carrier-primary': { kind: 'reject', sip: 486 }, 'carrier-b': { kind: 'reject', sip: 503 } } });
      assert.deepEqual(r.dials, ['SIP/15552345678@carrier-primary&PJSIP/15552345678@carrier-b,60^5,T']);
      assert.equal(r.vars.get('FAILOVER_STATUS'), 'BUSY');
      assert.equal(r.vars.get('FAILOVER_CAUSE'), '17');
      assert.deepEqual(r.warnings, [], 'each leg read by its own key');
      assert.deepEqual(p.sink.attempts.map((a) => [a.carrier, a.verdict, a.sipCode]), [['tertiary', 'skipped', null], ['primary', 'stop', 486], ['secondary', 'stop', 503]]);
    } finally {
      await p.stop();
    }
  });
});
