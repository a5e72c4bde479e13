import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { headersFromRaw, headersFromTranscript, loadCaptures, type CaptureCase, type CapturedAttempt } from './capture-reader.js';
import type { AttemptRecord } from '../../src/calls/records.js';
import { runsFor } from './case-runs.js';
import { afterDial, clearCauses, expand, freshChannel, setVariable } from './channel-state.js';
import { checkConnection } from './check-run.js';
import { EXPECTED } from './expected.js';
import { matchDial } from './dial-match.js';
import { decodePythonBytes } from './python-bytes.js';
import { replay, type ReplayResult } from './replay-asterisk.js';

/** The conformance harness itself: a reader or replay bug would make every verdict check meaningless. */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CAPTURES = join(ROOT, '..', 'shared', 'asterisk', 'captures');
const present = existsSync(join(CAPTURES, 'multi'));
const cases = new Map<string, CaptureCase>(present ? loadCaptures(CAPTURES).map((c) => [c.name, c]) : []);
const get = (name: string): CaptureCase => {
  const c = cases.get(name);
  assert.ok(c, `capture ${name} not read`);
  return c;
};
const attempt = (name: string, conn: number, n: number): CapturedAttempt => get(name).connections[conn - 1]?.attempts[n - 1] as CapturedAttempt;

describe('python bytes literals', () => {
  test('repr escapes decode to the bytes', () => {
    assert.deepEqual(decodePythonBytes(String.raw`b'a\n\\\'\x00\t"'`), Buffer.from([0x61, 0x0a, 0x5c, 0x27, 0x00, 0x09, 0x22]));
    assert.deepEqual(decodePythonBytes(`b"it's"`), Buffer.from("it's"));
  });
  test('anything repr does not write is refused', () => {
    assert.throws(() => decodePythonBytes(String.raw`b'\q'`));
    assert.throws(() => decodePythonBytes(`'no b prefix'`));
  });
});

describe('capture reader', { skip: present ? false : `no captures at ${CAPTURES}` }, () => {
  test('every .agi.raw header equals the transcript\'s AST> header lines, byte for byte', () => {
    let compared = 0;
    for (const c of cases.values()) {
      if (c.format !== 'multi') continue;
      const raw = join(CAPTURES, c.file.replace(/\.txt$/, '.agi.raw'));
      if (!existsSync(raw)) continue;
      const fromRaw = headersFromRaw(readFileSync(raw, 'utf8'));
      const fromTxt = headersFromTranscript(readFileSync(join(CAPTURES, c.file), 'utf8'));
      assert.deepEqual(fromRaw.map(String), fromTxt.map(String), c.name);
      compared += fromRaw.length;
    }
    assert.ok(compared >= 60, `${compared} headers compared`);
  });

  test('headers end with the blank line and carry no \\r (res_agi sends \\n only)', () => {
    for (const c of cases.values()) {
      for (const conn of c.connections) {
        const h = conn.header.toString('latin1');
        assert.ok(h.endsWith('agi_threadid: ' + /agi_threadid: (\d+)/.exec(h)?.[1] + '\n\n'), c.name);
        assert.ok(!h.includes('\r'), c.name);
      }
    }
  });

  test('two AGI runs on one channel: two connections, same uniqueid, second-run script (fact 12)', () => {
    const c = get('two_agi_runs_same_channel');
    assert.equal(c.connections.length, 2);
    assert.deepEqual(c.connections.map((x) => x.script), ['first-run', 'second-run']);
    const uid = c.connections.map((x) => /agi_uniqueid: (.*)\n/.exec(x.header.toString())?.[1]);
    assert.equal(uid[0], uid[1]);
  });

  test('HANGUP lines: after the Dial where the caller left, after the close always (facts 7, 13)', () => {
    assert.equal(attempt('answer_caller_hangup', 1, 1).hangupAfterDial, true);
    assert.equal(attempt('answer_callee_bye', 1, 1).hangupAfterDial, false);
    assert.equal(attempt('seq_ringout_then_cancel', 1, 2).hangupAfterDial, true);
    assert.equal(attempt('seq_ringout_then_cancel', 1, 3).extra, true);
    assert.equal(attempt('sip200_builtin_uas', 1, 1).hangupAfterDial, true);
    assert.ok(get('seq_503_then_ringout').connections[0]?.hangupAfterClose, 'older summary form (hangup_lines)');
    assert.ok([...cases.values()].every((c) => c.connections.every((x) => x.hangupAfterClose)));
  });

  test('per-attempt state: Dial variables, sticky HANGUPCAUSE, keys in container order', () => {
    const a2 = attempt('seq_503_then_ringout', 1, 2);
    assert.deepEqual([a2.vars['DIALSTATUS'], a2.hangupCause, a2.vars['RINGTIME_MS'], a2.keys], ['NOANSWER', 34, '3', ['SIP/carrier-secondary-00000001']]);
    const sim = attempt('simultaneous_486_503', 1, 1);
    assert.deepEqual(sim.keys, ['SIP/carrier-secondary-00000023', 'SIP/carrier-primary-00000022']);
    assert.equal(sim.perKey.get('SIP/carrier-primary-00000022')?.tech, 'SIP 486 Busy Here');
    const old = attempt('sip200_callee_bye', 1, 1);
    assert.deepEqual([old.dial, old.vars['RINGTIME_MS'], old.vars['ANSWEREDTIME_MS'], old.perKey.get('SIP/carrier-primary-00000007')?.ast], ['SIP/15551234567@carrier-primary,20', '', '3000', 'Normal Clearing']);
  });
});

describe('channel state and expressions', { skip: present ? false : 'no captures' }, () => {
  test('a fresh channel: HANGUPCAUSE 0, variables unset, no keys (fact 1)', () => {
    const r = expand('${HANGUPCAUSE}|${DIALSTATUS}|${HANGUPCAUSE_KEYS()}', freshChannel());
    assert.deepEqual([r.value, r.log], ['0||', []]);
  });
  test('the combined multi-key lookup is empty and logged (fact 9); per-key lookups work', () => {
    const s = afterDial(freshChannel(), attempt('simultaneous_486_503', 1, 1));
    const combined = expand('${HANGUPCAUSE(${HANGUPCAUSE_KEYS()},tech)}', s);
    assert.equal(combined.value, '');
    assert.deepEqual(combined.log.map((l) => l.text), ['func_hangupcause.c: Information type not recognized (SIP/carrier-primary-00000022,tech)']);
    const each = expand('${HANGUPCAUSE(SIP/carrier-primary-00000022,ast)}|${HANGUPCAUSE(SIP/carrier-secondary-00000023,tech)}', s);
    assert.deepEqual([each.value, each.log], ['User busy|SIP 503 Service Unavailable', []]);
  });
  test('a lookup with no key is a WARNING (fact 2); HangupCauseClear empties only the keys (fact 1)', () => {
    const s = clearCauses(afterDial(freshChannel(), attempt('sip503', 1, 1)));
    const r = expand('${HANGUPCAUSE}|${DIALSTATUS}|${HANGUPCAUSE(${HANGUPCAUSE_KEYS()},tech)}', s);
    assert.equal(r.value, '34|CONGESTION|');
    assert.deepEqual(r.log, [{ level: 'WARNING', text: 'func_hangupcause.c: Unable to find information for channel ' }]);
  });
  test('SET VARIABLE HANGUPCAUSE changes nothing the built-in returns (fact 14)', () => {
    assert.equal(expand('${HANGUPCAUSE}', setVariable(freshChannel(), 'HANGUPCAUSE', '19')).value, '0');
  });
  test('SET() inside an expression sets the variable and expands to its value, left to right (func_logic.c:266-286); without `=` a WARNING', () => {
    const r = expand('${FAILOVER_STATUS}|${HANGUPCAUSE}|${SET(FAILOVER_STATUS=DIALING)}|${FAILOVER_STATUS}|${HANGUPCAUSE_KEYS()}', freshChannel());
    assert.equal(r.value, '|0|DIALING|DIALING|');
    assert.deepEqual(r.sets, [['FAILOVER_STATUS', 'DIALING']]);
    assert.deepEqual(r.log, []);
    const bad = expand('${SET(FAILOVER_STATUS)}', freshChannel());
    assert.deepEqual([bad.value, bad.sets, bad.log.map((l) => l.level)], ['', [], ['WARNING']]);
  });
});

describe('Dial comparison', () => {
  test('same bytes when the options match; carrier and timers otherwise', () => {
    assert.equal(matchDial('SIP/15552345678@carrier-primary,60^5,tT', '15552345678', 'SIP/15552345678@carrier-primary,60^5,tT').detail, 'same bytes');
    assert.equal(matchDial('SIP/15552345678@carrier-primary,20,tT', '15552345678', 'SIP/15551234567@carrier-primary,20').ok, true);
    assert.equal(matchDial('SIP/15552345678@carrier-secondary,60^5,tT', '15552345678', 'SIP/15552345678@carrier-primary,60^5,tT').ok, false);
    assert.equal(matchDial('SIP/15552345678@carrier-primary,30^5,tT', '15552345678', 'SIP/15552345678@carrier-primary,60^5,tT').ok, false);
  });
});

/** A scripted daemon: sends the commands at once, half-closes, and returns every byte Asterisk sent. */
async function scripted(commands: readonly string[], run: (port: number) => Promise<unknown>): Promise<{ bytes: string; result: unknown }> {
  let received = '';
  let done!: () => void;
  const closed = new Promise<void>((r) => (done = r));
  const server = createServer({ allowHalfOpen: true }, (s: Socket) => {
    s.setEncoding('latin1');
    let sent = false;
    s.on('data', (d: string) => {
      received += d;
      if (!sent && received.includes('\n\n')) {
        sent = true;
        s.write(commands.map((c) => `${c}\n`).join(''));
        s.end();
      }
    });
    s.on('close', done);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const result = await run(port);
  await closed;
  server.close();
  return { bytes: received, result };
}

describe('replay over TCP', { skip: present ? false : 'no captures' }, () => {
  test('seq_ringout_then_cancel from a2: header bytes, -1 then HANGUP, dead-channel 511, the forced a3 flagged, last HANGUP after the close', async () => {
    const conn = get('seq_ringout_then_cancel').connections[0];
    assert.ok(conn);
    const [a1, a2, a3] = conn.attempts as CapturedAttempt[];
    const { bytes, result } = await scripted(
      [
        'EXEC HangupCauseClear ""',
        'EXEC Dial "SIP/15552345678@carrier-secondary,60^5,tT"',
        'GET FULL VARIABLE "${DIALSTATUS}|${HANGUPCAUSE}|${HANGUPCAUSE_KEYS()}|${HANGUPCAUSE(SIP/carrier-secondary-00000009,ast)}"',
        'ANSWER',
        'GET VARIABLE NO_SUCH_VARIABLE_PROBE',
        'SET VARIABLE FAILOVER_STATUS "CANCEL"',
        'EXEC Dial "SIP/15552345678@carrier-primary,60^5,tT"',
      ],
      (port) => replay({ port, header: conn.header, attempts: [a2 as CapturedAttempt], extras: [a3 as CapturedAttempt], initial: afterDial(freshChannel(), a1 as CapturedAttempt), number: conn.extension, hangupAfterClose: true }),
    );
    const header = conn.header.toString('latin1');
    assert.equal(bytes.slice(0, header.length), header);
    assert.equal(
      bytes.slice(header.length),
      [
        '200 result=0',
        '200 result=-1',
        'HANGUP',
        '200 result=1 (CANCEL|0|SIP/carrier-secondary-00000009|Normal Clearing)',
        '511 Command Not Permitted on a dead channel or intercept routine',
        '200 result=0',
        '200 result=1',
        '200 result=-1',
        'HANGUP',
        '',
      ].join('\n'),
    );
    const r = result as Awaited<ReturnType<typeof replay>>;
    assert.equal(r.violations.length, 1);
    assert.match(r.violations[0] ?? '', /dialed again: would ring the callee twice/);
    assert.deepEqual(r.sets, [{ name: 'FAILOVER_STATUS', value: 'CANCEL', index: 5 }]);
  });

  test('a Dial for another carrier is named; a Dial no capture can answer ends the connection', async () => {
    const conn = get('sip486').connections[0];
    assert.ok(conn);
    const { result } = await scripted(
      ['EXEC Dial "SIP/15552345678@carrier-secondary,20,tT"', 'EXEC Dial "SIP/15552345678@carrier-tertiary,20,tT"', 'NOOP'],
      (port) => replay({ port, header: conn.header, attempts: conn.attempts, extras: [], initial: freshChannel(), number: conn.extension, hangupAfterClose: true }),
    );
    const r = result as Awaited<ReturnType<typeof replay>>;
    assert.match(r.violations[0] ?? '', /^Dial #1 names "SIP\/\$\{number\}@carrier-secondary", the capture's Dial names "SIP\/\$\{number\}@carrier-primary"/);
    assert.match(r.violations[1] ?? '', /^Dial #2 .*dialed again/);
    assert.equal(r.commands.length, 2, 'nothing answered after the connection was dropped');
  });
});

describe('run checks', { skip: present ? false : 'no captures' }, () => {
  const run = runsFor(get('seq_503_then_ringout'), EXPECTED)[0];
  const conn = run?.connections[0];
  const dials = ['SIP/15552345678@carrier-primary,60^5,tT', 'SIP/15552345678@carrier-secondary,4^5,tT'];
  const conforming: ReplayResult = {
    commands: [],
    sets: [
      { name: 'FAILOVER_STATUS', value: 'DIALING', index: 1 },
      ...['NOANSWER', 'carrier-secondary', '2', '16', 'NOANSWER'].map((value, i) => ({ name: ['FAILOVER_STATUS', 'FAILOVER_CARRIER', 'FAILOVER_ATTEMPTS', 'FAILOVER_CAUSE', 'DIALSTATUS'][i] as string, value, index: 10 + i })),
    ],
    dialIndexes: [3, 7],
    dials: dials.map((data) => ({ data, attempt: null, match: 'same bytes' })),
    violations: [],
    asteriskLog: [],
    unexpected: [],
    state: freshChannel(),
    transcript: [],
  };
  const records = (verdicts: string[]): AttemptRecord[] => verdicts.map((verdict, i) => ({ dialString: dials[i], verdict, carrier: `c${i}`, reason: '' }) as unknown as AttemptRecord);

  test('the route: captured carriers in order, then carrier-tertiary to prove the stop', () => {
    assert.deepEqual(run?.routes, [{ name: 'outbound-failover', strategy: 'failover', carriers: ['carrier-primary', 'carrier-secondary', 'carrier-tertiary'] }]);
    assert.deepEqual(run?.carriers.map((c) => [c.name, c.ringTimeout, c.progressTimeout, c.dialOptions]), [['carrier-primary', 60, 5, 'tT'], ['carrier-secondary', 4, 5, 'tT'], ['carrier-tertiary', 60, 5, 'tT']]);
  });
  test('a conforming call yields no problem', () => {
    assert.ok(conn);
    assert.deepEqual(checkConnection(conn, conforming, records(['next', 'stop'])), []);
  });
  test('each departure yields its own line', () => {
    assert.ok(conn);
    const late = { ...conforming, sets: conforming.sets.map((s) => (s.value === 'DIALING' ? { ...s, index: 5 } : s)) };
    assert.deepEqual(checkConnection(conn, late, records(['next', 'next'])), [
      'FAILOVER_STATUS "DIALING": set after the first Dial, not before it',
      'attempt 2 verdict: expected stop, got next (c1: )',
    ]);
  });
});
