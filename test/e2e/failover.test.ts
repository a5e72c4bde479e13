import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { simulateCall, type Behaviour } from '../sim/agi-sim.js';
import { CARRIERS, startTestDaemon, type TestDaemon } from '../support/daemon.js';

const NUM = '15552345678';

describe('failover through TCP against the simulated Asterisk', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon();
  });
  after(async () => d.stop());

  const call = (carriers: Record<string, Behaviour | Behaviour[]>, extra: Partial<Parameters<typeof simulateCall>[0]> = {}) =>
    simulateCall({ port: d.port, args: [NUM], carriers, ...extra });

  test('primary 503 → secondary answers: two Dials, FAILOVER_STATUS=ANSWER on the secondary', async () => {
    const r = await call({ 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer', talkMs: 20 } });
    assert.deepEqual(r.dials, ['SIP/15552345678@carrier-primary,30^5,T', 'PJSIP/15552345678@carrier-b,60^5,T']);
    assert.equal(r.vars.get('FAILOVER_STATUS'), 'ANSWER');
    assert.equal(r.vars.get('FAILOVER_CARRIER'), 'secondary');
    assert.equal(r.vars.get('FAILOVER_ATTEMPTS'), '2');
    assert.equal(r.vars.get('DIALSTATUS'), 'ANSWER');
    // the channel before (no keys: no HangupCauseClear needed) with DIALING set in the same read, so the first
    // Dial is the second command; then per attempt HangupCauseClear (from the second on), Dial, and the outcome with
    // the one leg's cause in the same read (SET() worked, so IF is there too)
    const outcome = 'GET FULL VARIABLE "${DIALSTATUS}|${HANGUPCAUSE}|${RINGTIME_MS}|${PROGRESSTIME_MS}|${ANSWEREDTIME_MS}|${HANGUPCAUSE_KEYS()}' +
      '|${${IF($[\\"${HANGUPCAUSE_KEYS()}\\" =~ \\"^[^,]+$\\"]?HANGUPCAUSE(${HANGUPCAUSE_KEYS()},ast):FAILOVER_NO_LEG)}}' +
      '|${${IF($[\\"${HANGUPCAUSE_KEYS()}\\" =~ \\"^[^,]+$\\"]?HANGUPCAUSE(${HANGUPCAUSE_KEYS()},tech):FAILOVER_NO_LEG)}}"';
    assert.deepEqual(r.commands, [
      'GET FULL VARIABLE "${HANGUPCAUSE}|${SET(FAILOVER_STATUS=DIALING)}|${HANGUPCAUSE_KEYS()}"',
      'EXEC Dial "SIP/15552345678@carrier-primary,30^5,T"',
      outcome,
      'EXEC HangupCauseClear ""',
      'EXEC Dial "PJSIP/15552345678@carrier-b,60^5,T"',
      outcome,
      // the arm proved SET() works: the five result variables in one round trip, FAILOVER_STATUS first
      'GET FULL VARIABLE "${SET(FAILOVER_STATUS=ANSWER)}|${SET(FAILOVER_CARRIER=secondary)}|${SET(FAILOVER_ATTEMPTS=2)}|${SET(FAILOVER_CAUSE=16)}|${SET(DIALSTATUS=ANSWER)}"',
    ]);
    assert.deepEqual(r.sets.slice(1), [['FAILOVER_STATUS', 'ANSWER'], ['FAILOVER_CARRIER', 'secondary'], ['FAILOVER_ATTEMPTS', '2'], ['FAILOVER_CAUSE', '16'], ['DIALSTATUS', 'ANSWER']]);
    assert.deepEqual(r.warnings, [], 'no HANGUPCAUSE lookup Asterisk would warn about');
  });

  test('attempt records carry SIP code, cause, verdict and reason', async () => {
    const before = d.sink.attempts.length;
    await call({ 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer' } }, { uniqueid: '1795412596.4' });
    const recs = d.sink.attempts.slice(before);
    assert.equal(recs.length, 2);
    assert.deepEqual(
      recs.map((r) => [r.uniqueid, r.attempt, r.carrier, r.dialStatus, r.cause, r.sipCode, r.sipReason, r.verdict]),
      [
        ['1795412596.4', 1, 'primary', 'CONGESTION', 34, 503, 'Service Unavailable', 'next'],
        ['1795412596.4', 2, 'secondary', 'ANSWER', 16, 200, 'OK', 'answered'],
      ],
    );
  });

  const stopCases: [string, Behaviour, string, string][] = [
    ['486 busy (chan_sip)', { kind: 'reject', sip: 486 }, 'BUSY', 'BUSY'],
    ['404 not found', { kind: 'reject', sip: 404 }, 'CHANUNAVAIL', 'CHANUNAVAIL'],
    ['480 on chan_sip (BUSY)', { kind: 'reject', sip: 480 }, 'BUSY', 'BUSY'],
    ['603 decline', { kind: 'reject', sip: 603 }, 'BUSY', 'BUSY'],
    ['ring, no answer', { kind: 'ring-no-answer' }, 'NOANSWER', 'NOANSWER'],
    ['caller hangs up while ringing', { kind: 'caller-hangup' }, 'CANCEL', 'CANCEL'],
    ['answered, caller hangs up after', { kind: 'answer', callerHangsUp: true }, 'ANSWER', 'ANSWER'],
  ];
  for (const [label, b, status, dialStatus] of stopCases) {
    test(`stop without retry: ${label}`, async () => {
      const r = await call({ 'carrier-primary': b, 'carrier-b': { kind: 'answer' } });
      assert.equal(r.dials.length, 1, 'a second Dial would ring the same person twice');
      assert.equal(r.vars.get('FAILOVER_STATUS'), status);
      assert.equal(r.vars.get('DIALSTATUS'), dialStatus);
    });
  }

  const nextCases: [string, Behaviour][] = [
    ['503', { kind: 'reject', sip: 503 }],
    ['500 (chan_sip CONGESTION)', { kind: 'reject', sip: 500 }],
    ['502', { kind: 'reject', sip: 502 }],
    ['504', { kind: 'reject', sip: 504 }],
    ['408', { kind: 'reject', sip: 408 }],
    ['INVITE swallowed until the progress timeout (cause unchanged)', { kind: 'blackhole', afterMs: 5 }],
    ['INVITE swallowed until timer B (cause 18)', { kind: 'timer-b', afterMs: 5 }],
    ['401 our credentials', { kind: 'reject', sip: 401 }],
    ['402 account out of credit', { kind: 'reject', sip: 402 }],
    ['407 proxy credentials', { kind: 'reject', sip: 407 }],
    ['488 codec', { kind: 'reject', sip: 488 }],
    ['606 not acceptable', { kind: 'reject', sip: 606 }],
    ['unreachable (cause 20)', { kind: 'unreachable' }],
    ['no progress (CHANUNAVAIL/0)', { kind: 'no-progress' }],
    ['CONGESTION/0 without a code', { kind: 'congestion-no-code' }],
  ];
  for (const [label, b] of nextCases) {
    test(`next carrier: ${label}`, async () => {
      const r = await call({ 'carrier-primary': b, 'carrier-b': { kind: 'answer' } });
      assert.equal(r.dials.length, 2);
      assert.equal(r.vars.get('FAILOVER_STATUS'), 'ANSWER');
    });
  }

  test('PJSIP flavours: 500 → CHANUNAVAIL/38 fails over; 480 → NOANSWER/19 stops', async () => {
    const carriers = [
      { name: 'a', dial: 'PJSIP/${number}@pj-a' },
      { name: 'b', dial: 'PJSIP/${number}@pj-b' },
    ];
    const p = await startTestDaemon({ carriers, routes: [{ name: 'outbound-failover', carriers: ['a', 'b'] }] });
    try {
      const r500 = await simulateCall({ port: p.port, args: [NUM], carriers: { 'pj-a': { kind: 'reject', sip: 500 }, 'pj-b': { kind: 'answer' } } });
      assert.equal(r500.dials.length, 2);
      assert.equal(p.sink.attempts[0]?.dialStatus, 'CHANUNAVAIL');
      assert.equal(p.sink.attempts[0]?.cause, 38);
      const r480 = await simulateCall({ port: p.port, args: [NUM], carriers: { 'pj-a': { kind: 'reject', sip: 480 }, 'pj-b': { kind: 'answer' } } });
      assert.equal(r480.dials.length, 1);
      assert.equal(r480.vars.get('FAILOVER_STATUS'), 'NOANSWER');
    } finally {
      await p.stop();
    }
  });

  test('every carrier failing → EXHAUSTED, DIALSTATUS of the last attempt', async () => {
    const r = await call({ 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'blackhole' }, 'carrier-c': { kind: 'unreachable' } });
    assert.equal(r.dials.length, 3);
    assert.equal(r.vars.get('FAILOVER_STATUS'), 'EXHAUSTED');
    assert.equal(r.vars.get('DIALSTATUS'), 'CHANUNAVAIL');
    assert.equal(r.vars.get('FAILOVER_ATTEMPTS'), '3');
    const last = d.sink.attempts[d.sink.attempts.length - 1];
    assert.equal(last?.verdict, 'exhausted');
  });

  test('every carrier skipped (all disabled): no Dial, and the call still ends on an exhausted row ops can count', async () => {
    const carriers = CARRIERS.map((c) => ({ ...c, enabled: false }));
    const p = await startTestDaemon({ carriers });
    try {
      const r = await simulateCall({ port: p.port, args: [NUM], carriers: {} });
      assert.equal(r.dials.length, 0);
      assert.equal(r.vars.get('FAILOVER_STATUS'), 'EXHAUSTED');
      assert.deepEqual(p.sink.attempts.map((a) => a.verdict), ['skipped', 'skipped', 'skipped', 'exhausted']);
      assert.deepEqual([p.sink.attempts.at(-1)?.carrier, p.sink.attempts.at(-1)?.dialString], ['', '']);
    } finally {
      await p.stop();
    }
  });

  test('per-carrier override: 480 retried on a carrier that lists it', async () => {
    const carriers = [
      { name: 'a', dial: 'SIP/${number}@c-a', retrySipCodes: [480] },
      { name: 'b', dial: 'SIP/${number}@c-b' },
    ];
    const p = await startTestDaemon({ carriers, routes: [{ name: 'outbound-failover', carriers: ['a', 'b'] }] });
    try {
      const r = await simulateCall({ port: p.port, args: [NUM], carriers: { 'c-a': { kind: 'reject', sip: 480 }, 'c-b': { kind: 'answer' } } });
      assert.equal(r.dials.length, 2);
    } finally {
      await p.stop();
    }
  });

  test('maxAttempts bounds the Dials', async () => {
    const p = await startTestDaemon({ routes: [{ name: 'outbound-failover', carriers: ['primary', 'secondary', 'tertiary'], maxAttempts: 2 }] });
    try {
      const r = await simulateCall({ port: p.port, args: [NUM], carriers: { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'reject', sip: 503 }, 'carrier-c': { kind: 'answer' } } });
      assert.equal(r.dials.length, 2);
      assert.equal(r.vars.get('FAILOVER_STATUS'), 'EXHAUSTED');
      assert.equal(p.sink.attempts.at(-1)?.verdict, 'skipped');
    } finally {
      await p.stop();
    }
  });
});

describe('strategies', () => {
  test('round_robin rotates the first carrier per call', async () => {
    const p = await startTestDaemon({ routes: [{ name: 'outbound-failover', strategy: 'round_robin', carriers: ['primary', 'secondary', 'tertiary'] }] });
    try {
      const firsts: string[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await simulateCall({ port: p.port, args: [NUM], carriers: { 'carrier-primary': { kind: 'answer' }, 'carrier-b': { kind: 'answer' }, 'carrier-c': { kind: 'answer' } } });
        firsts.push(r.vars.get('FAILOVER_CARRIER') ?? '');
      }
      assert.deepEqual(firsts, ['primary', 'secondary', 'tertiary', 'primary']);
    } finally {
      await p.stop();
    }
  });

  test('weighted picks the first carrier by weight, weight 0 is never dialed', async () => {
    const carriers = [
      { name: 'heavy', dial: 'SIP/${number}@heavy', weight: 3 },
      { name: 'light', dial: 'SIP/${number}@light', weight: 1 },
      { name: 'drained', dial: 'SIP/${number}@drained', weight: 0 },
    ];
    const draws = [0.1, 0.5, 0.74, 0.76, 0.99];
    let i = 0;
    const p = await startTestDaemon({ carriers, routes: [{ name: 'outbound-failover', strategy: 'weighted', carriers: ['heavy', 'light', 'drained'] }], random: () => draws[i++ % draws.length] ?? 0 });
    try {
      const got: string[] = [];
      for (let k = 0; k < draws.length; k++) {
        const r = await simulateCall({ port: p.port, args: [NUM], carriers: { heavy: { kind: 'answer' }, light: { kind: 'answer' }, drained: { kind: 'answer' } } });
        got.push(r.vars.get('FAILOVER_CARRIER') ?? '');
        assert.ok(!r.dials.some((x) => x.includes('@drained')));
      }
      assert.deepEqual(got, ['heavy', 'heavy', 'heavy', 'light', 'light']);
    } finally {
      await p.stop();
    }
  });

  test('simultaneous: one Dial of A&B&C, every leg recorded with its own SIP code', async () => {
    const p = await startTestDaemon({ routes: [{ name: 'outbound-failover', strategy: 'simultaneous', carriers: ['primary', 'secondary', 'tertiary'] }] });
    try {
      const r = await simulateCall({ port: p.port, args: [NUM], carriers: { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer' }, 'carrier-c': { kind: 'unreachable' } } });
      assert.equal(r.dials.length, 1);
      assert.equal(r.dials[0], 'SIP/15552345678@carrier-primary&PJSIP/15552345678@carrier-b&IAX2/carrier-c/15552345678,60^5,T');
      assert.equal(r.vars.get('FAILOVER_STATUS'), 'ANSWER');
      assert.equal(r.vars.get('FAILOVER_CARRIER'), 'secondary');
      const legs = p.sink.attempts.map((a) => [a.carrier, a.sipCode, a.verdict]);
      assert.deepEqual(legs, [
        ['primary', 503, 'stop'],
        ['secondary', 200, 'answered'],
        ['tertiary', null, 'stop'],
      ]);
    } finally {
      await p.stop();
    }
  });
});
