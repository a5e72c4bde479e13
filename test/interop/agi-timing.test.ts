import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { agiTimings, median, verbOf } from './agi-timing.js';

/**
 * The interop figures are only as right as this parser: a session of the lab's own log (Asterisk 20.20.1,
 * `agi set debug on`, dateformat `%6q`), header shortened to its first and last lines, and one of the captures'
 * millisecond lines. Runs without a lab.
 */
const P = '[2026-12-02 04:01:57.';
const T = '] VERBOSE[31854][C-00000005] res_agi.c: <Local/15552345678@busy-00000004;2>AGI';
const SESSION = [
  `${P}977542] VERBOSE[31854][C-00000005] res_agi.c: AGI Tx >> agi_network: yes`,
  `${P}977723${T} Tx >> agi_uniqueid: 1796184091.0005`,
  `${P}977923${T} Tx >> `,
  `${P}982630${T} Rx << GET FULL VARIABLE "\${HANGUPCAUSE}|\${SET(FAILOVER_STATUS=DIALING)}|\${HANGUPCAUSE_KEYS()}"`,
  `${P}983139${T} Tx >> 200 result=1 (0|DIALING|)`,
  `${P}983983${T} Rx << EXEC Dial "SIP/15552345678@carrier-c486,20^5,T"`,
  `${P}984261] VERBOSE[31854][C-00000005] res_agi.c: AGI Script Executing Application: (Dial) Options: (SIP/15552345678@carrier-c486,20^5,T)`,
  `${P}989854${T} Tx >> 200 result=0`,
  `${P}990580${T} Rx << GET FULL VARIABLE "\${DIALSTATUS}|\${HANGUPCAUSE}|\${RINGTIME_MS}|\${PROGRESSTIME_MS}|\${ANSWEREDTIME_MS}|\${HANGUPCAUSE_KEYS()}"`,
  `${P}990641${T} Tx >> 200 result=1 (BUSY|17||||SIP/carrier-c486-00000007)`,
  `${P}992406${T} Rx << SET VARIABLE FAILOVER_STATUS "BUSY"`,
  `${P}992451${T} Tx >> 200 result=1`,
].join('\n');

describe('interop AGI timing: Asterisk\'s agi debug log read back', () => {
  test('header → Dial and its parts: the daemon\'s gaps (Tx → Rx) and Asterisk\'s (Rx → Tx), to the microsecond', () => {
    const [s, ...more] = agiTimings(SESSION);
    assert.equal(more.length, 0);
    assert.ok(s);
    assert.equal(s.uniqueid, '1796184091.0005');
    assert.equal(s.headerToFirstCommandMs, 4.707);
    assert.equal(s.headerToDialMs, 6.06);
    // header end → the read (4.707) + its reply → the Dial (0.844); Asterisk ran the read in 0.509
    assert.equal(s.preDialDaemonMs, 5.551);
    assert.equal(s.preDialAsteriskMs, 0.509);
    assert.deepEqual(s.preDialCommands.map(verbOf), ['GET FULL VARIABLE']);
    assert.deepEqual(s.dialMs, [5.871]);
    assert.deepEqual(s.turnaroundsMs, [0.844, 0.726, 1.765]);
    assert.deepEqual(s.asteriskMs, [['GET FULL VARIABLE', 0.509], ['GET FULL VARIABLE', 0.061], ['SET VARIABLE', 0.045]]);
    assert.equal(s.commands, 4);
  });

  test('millisecond stamps (the captures\' logs) parse too; two sessions on two channel threads stay apart', () => {
    const other = SESSION.replaceAll('31854', '19400').replaceAll('1796184091.0005', '1796152709.1').replaceAll(/04:01:57\.(\d{3})\d{3}/g, '04:01:58.$1');
    const [a, b] = agiTimings(`${SESSION}\n${other}`);
    assert.equal(a?.uniqueid, '1796184091.0005');
    assert.equal(b?.uniqueid, '1796152709.1');
    assert.equal(b?.headerToDialMs, 6);
  });

  test('verbs and medians', () => {
    assert.equal(verbOf('SET VARIABLE DIALSTATUS "BUSY"'), 'SET VARIABLE');
    assert.equal(verbOf('EXEC HangupCauseClear ""'), 'EXEC HangupCauseClear');
    assert.equal(verbOf('GET FULL VARIABLE "${DIALSTATUS}"'), 'GET FULL VARIABLE');
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    assert.equal(median([]), null);
  });
});
