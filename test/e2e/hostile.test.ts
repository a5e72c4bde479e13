import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { header, simulateCall, type Behaviour } from '../sim/agi-sim.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';

const NUM = '15552345678';
const OK: Record<string, Behaviour> = { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer' } };
/** The daemon's first commands: the channel read that also sets FAILOVER_STATUS=DIALING, then Dial (no keys to clear yet) and the outcome read. */
const ARM = 1;
const DIAL = 2;
const READ = 3;

/** Sends raw bytes and resolves with what came back when the daemon closes the socket (or after ms). */
function raw(port: number, bytes: string | Buffer, ms = 2000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    const t = setTimeout(() => {
      s.destroy();
      resolve({ text, closed: false });
    }, ms);
    s.on('connect', () => s.write(bytes));
    s.on('data', (c) => (text += c.toString()));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(t);
      resolve({ text, closed: true });
    });
  });
}

describe('hostile and broken input', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startTestDaemon({ overrides: { 'agi.headerTimeout': 300, 'agi.commandTimeout': 300, 'agi.maxHeaderBytes': 4096 } });
  });
  after(async () => d.stop());

  const injections = ['5551234&SIP/999@evil', '555,1234', '555)1234', '${EXTEN}', '555 1234', '555|1234', 'abc', '555/1234', '555@evil', '+', '', '1'.repeat(40), '5551234\r', '55"5'];
  for (const n of injections) {
    test(`number ${JSON.stringify(n)} is refused before any Dial: FAILOVER_STATUS=INVALID`, async () => {
      const r = await simulateCall({ port: d.port, args: [n], extension: n === '' ? 'abc' : NUM, carriers: OK });
      assert.equal(r.dials.length, 0);
      assert.equal(r.vars.get('FAILOVER_STATUS'), 'INVALID');
      const rec = d.sink.attempts.at(-1);
      assert.equal(rec?.verdict, 'invalid');
    });
  }

  test('a newline inside an argument never reaches the wire as a second command', async () => {
    // the sim splits header lines on \n, so an agi_arg cannot hold one; the call-side guard is quoteArg (unit tested)
    const r = await simulateCall({ port: d.port, args: ['5551234'], carriers: OK });
    assert.ok(r.commands.every((c) => !c.includes('\r')));
  });

  test('unknown route → FAILOVER_STATUS=NOROUTE, no Dial, a record and an error log line', async () => {
    const r = await simulateCall({ port: d.port, script: 'no-such-route', args: [NUM], carriers: OK });
    assert.equal(r.dials.length, 0);
    assert.equal(r.vars.get('FAILOVER_STATUS'), 'NOROUTE');
    assert.ok(d.logLines().some((l) => String(l['msg']).includes('no route')));
  });

  test('HANGUP right after the header: no Dial placed', async () => {
    const r = await simulateCall({ port: d.port, args: [NUM], carriers: OK, hangupAfterCommand: 0 });
    assert.equal(r.dials.length, 0);
    assert.equal(r.vars.get('FAILOVER_STATUS'), 'CANCEL');
  });

  // HANGUP after each command of a failover call: never a Dial after it
  for (let n = 1; n <= 8; n++) {
    test(`HANGUP after command ${n}: no Dial follows it`, async () => {
      const r = await simulateCall({ port: d.port, args: [NUM], carriers: OK, hangupAfterCommand: n });
      // a Dial racing the HANGUP line is refused by app_dial ("Caller hung up before dial"): no call is placed
      const placedAfter = r.commands.slice(n).filter((c) => c.startsWith('EXEC Dial')).length - r.deadDials.length;
      assert.ok(placedAfter <= 0, `commands: ${r.commands.join(' | ')}`);
      assert.ok(r.deadDials.length <= 1, 'at most one Dial can race the HANGUP line');
      assert.ok(['CANCEL', 'ANSWER', 'ERROR'].includes(r.vars.get('FAILOVER_STATUS') ?? 'CANCEL'));
    });
  }

  test('replies split across TCP segments are reassembled', async () => {
    const r = await simulateCall({ port: d.port, args: [NUM], carriers: OK, splitReplies: true });
    assert.equal(r.vars.get('FAILOVER_STATUS'), 'ANSWER');
  });

  test('510 to the arming read before the first Dial: no Dial, the call ends with ERROR', async () => {
    const r = await simulateCall({ port: d.port, args: [NUM], carriers: OK, rawReplies: { [ARM]: '510 Invalid or unknown command\n' } });
    assert.equal(r.dials.length, 0);
    assert.equal(r.vars.get('FAILOVER_STATUS'), 'ERROR');
  });

  test('a 520 usage block after the Dial result is read as one reply: the call stops, the attempt is recorded', async () => {
    const before = d.sink.attempts.length;
    const r = await simulateCall({
      port: d.port,
      args: [NUM],
      carriers: OK,
      rawReplies: { [READ]: '520-Invalid command syntax.  Proper usage follows:\nUsage: GET FULL VARIABLE <variablename>\n520 End of proper usage.\n' },
    });
    assert.equal(r.dials.length, 1, 'after a Dial whose outcome is unknown, never dial again');
    const recs = d.sink.attempts.slice(before);
    assert.equal(recs.length, 1);
    assert.equal(recs[0]?.verdict, 'stop');
    assert.match(recs[0]?.reason ?? '', /520/);
  });

  test('garbage reply line closes that call only; the attempt is still recorded', async () => {
    const before = d.sink.attempts.length;
    const r = await simulateCall({ port: d.port, args: [NUM], carriers: OK, rawReplies: { [READ]: 'lol what\n' } });
    assert.equal(r.dials.length, 1);
    assert.equal(d.sink.attempts.length - before, 1);
  });

  test('no reply to a command: times out, closes, never dials again', async () => {
    const r = await simulateCall({ port: d.port, args: [NUM], carriers: OK, rawReplies: { 1: '' } });
    assert.equal(r.dials.length, 0);
  });

  test('Asterisk drops the socket mid-Dial: the attempt is recorded as stop', async () => {
    const before = d.sink.attempts.length;
    await simulateCall({ port: d.port, args: [NUM], carriers: { 'carrier-primary': { kind: 'answer', talkMs: 50 } }, dropAfterCommand: ARM, rawReplies: { [DIAL]: '' } });
    await new Promise((r) => setTimeout(r, 50));
    const recs = d.sink.attempts.slice(before);
    assert.equal(recs.length, 1);
    assert.equal(recs[0]?.verdict, 'stop');
  });

  test('a header without its blank line times out and is closed', async () => {
    const r = await raw(d.port, 'agi_network: yes\nagi_request: agi://x/outbound-failover\n', 2000);
    assert.equal(r.closed, true);
    assert.equal(r.text, '');
  });

  test('a 1 MiB header line closes the connection', async () => {
    const r = await raw(d.port, `agi_network: ${'x'.repeat(1024 * 1024)}\n`);
    assert.equal(r.closed, true);
  });

  test('random bytes close the connection and the daemon keeps serving', async () => {
    const bytes = Buffer.alloc(4096);
    let x = 12345;
    for (let i = 0; i < bytes.length; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      bytes[i] = x & 0xff;
    }
    await raw(d.port, bytes, 1000);
    const r = await simulateCall({ port: d.port, args: [NUM], carriers: OK });
    assert.equal(r.vars.get('FAILOVER_STATUS'), 'ANSWER');
  });

  test('a crashing call does not touch a concurrent one', async () => {
    const long = simulateCall({ port: d.port, args: [NUM], carriers: { 'carrier-primary': { kind: 'answer', talkMs: 150 } }, uniqueid: '1.1' });
    const bad = simulateCall({ port: d.port, args: [NUM], carriers: OK, rawReplies: { 1: 'garbage\n' }, uniqueid: '1.2' });
    const [a, b] = await Promise.all([long, bad]);
    assert.equal(a.vars.get('FAILOVER_STATUS'), 'ANSWER');
    assert.equal(b.vars.get('FAILOVER_STATUS'), undefined);
  });

  test('header split on the first ": " only: agi_request URL and SIP URIs survive', async () => {
    const r = await simulateCall({ port: d.port, args: [NUM, 'sip:alice@example.com'], carriers: OK });
    assert.equal(r.vars.get('FAILOVER_STATUS'), 'ANSWER');
    const rec = d.sink.attempts.at(-1);
    assert.equal(rec?.campaign, 'sip:alice@example.com');
  });
});

describe('access control', () => {
  test('a peer outside agi.allowedPeers is refused and logged', async () => {
    const d = await startTestDaemon({ overrides: { 'agi.allowedPeers': ['10.9.9.9'] } });
    try {
      const r = await raw(d.port, header({ port: d.port, args: [NUM] }), 1000);
      assert.equal(r.closed, true);
      assert.equal(r.text, '');
      assert.ok(d.logLines().some((l) => String(l['msg']).includes('allowedPeers') && l['remote'] === '127.0.0.1'));
    } finally {
      await d.stop();
    }
  });
});

describe('VICIdial conventions', () => {
  test('91NXXNXXXXXX with stripDigits 1 dials 1NXXNXXXXXX; the caller code gives the lead id', async () => {
    const d = await startTestDaemon({ routes: [{ name: 'outbound-failover', carriers: ['primary'], stripDigits: 1 }] });
    try {
      const r = await simulateCall({ port: d.port, args: ['915552345678', 'TESTCAMP'], callerIdName: 'V1241830050000012345', carriers: { 'carrier-primary': { kind: 'answer' } } });
      assert.equal(r.dials[0], 'SIP/15552345678@carrier-primary,30^5,T');
      const rec = d.sink.attempts[0];
      assert.equal(rec?.leadId, 12345);
      assert.equal(rec?.callerCode, 'V1241830050000012345');
      assert.equal(rec?.campaign, 'TESTCAMP');
    } finally {
      await d.stop();
    }
  });

  test('the number comes from agi_extension when no argument is given', async () => {
    const d = await startTestDaemon();
    try {
      const r = await simulateCall({ port: d.port, extension: '15559998888', carriers: { 'carrier-primary': { kind: 'answer' } } });
      assert.equal(r.dials[0], 'SIP/15559998888@carrier-primary,30^5,T');
    } finally {
      await d.stop();
    }
  });
});

describe('campaign dial timeout', () => {
  test('agi_arg_3 (VICIdial ${CAMPDTO}) overrides the ring timeout and bounds the call; junk is ignored', async () => {
    const d = await startTestDaemon();
    try {
      const a = await simulateCall({ port: d.port, args: [NUM, 'CAMP', '45'], carriers: { 'carrier-primary': { kind: 'answer' } } });
      assert.match(a.dials[0] ?? '', /^SIP\/15552345678@carrier-primary,(45|44\.9)\^5,T$/);
      const b = await simulateCall({ port: d.port, args: [NUM, 'CAMP', '45,G(x)'], carriers: { 'carrier-primary': { kind: 'answer' } } });
      assert.equal(b.dials[0], 'SIP/15552345678@carrier-primary,30^5,T');
      const c = await simulateCall({ port: d.port, args: [NUM, 'CAMP', ''], carriers: { 'carrier-primary': { kind: 'answer' } } });
      assert.equal(c.dials[0], 'SIP/15552345678@carrier-primary,30^5,T');
    } finally {
      await d.stop();
    }
  });

  test('every log line of a call carries its uniqueid; the number is masked but for its last four digits', async () => {
    const d = await startTestDaemon();
    try {
      await simulateCall({ port: d.port, args: [NUM], uniqueid: '1795412596.77', carriers: { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer' } } });
      const lines = d.logLines().filter((l) => l['msg'] === 'attempt' || l['msg'] === 'call done');
      assert.equal(lines.length, 3);
      for (const l of lines) {
        assert.equal(l['uniqueid'], '1795412596.77');
        assert.equal(l['number'], '*******5678');
      }
    } finally {
      await d.stop();
    }
  });
});
