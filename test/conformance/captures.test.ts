import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { AttemptRecord } from '../../src/calls/records.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { until } from '../support/until.js';
import { loadCaptures, type CapturedAttempt } from './capture-reader.js';
import { configKey, runsFor, type ConformanceRun } from './case-runs.js';
import { afterDial, freshChannel, type ChannelState } from './channel-state.js';
import { checkConnection } from './check-run.js';
import { EXPECTED, NOT_REPLAYED } from './expected.js';
import { replay } from './replay-asterisk.js';

/**
 * Replays every AGI capture against the real daemon over TCP: the captured header bytes, each captured Dial's
 * reply and channel state, the HANGUP lines where and when they came; then checks each attempt's verdict and the
 * variables the daemon sets against the contract (expected.ts).
 */

// dist-*/test/conformance → the repository root, whose sibling is the shared folder
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CAPTURES = join(ROOT, '..', 'shared', 'asterisk', 'captures');
const present = existsSync(join(CAPTURES, 'multi'));
const captures = present ? loadCaptures(CAPTURES) : [];
const runs: ConformanceRun[] = captures.flatMap((c) => (EXPECTED[c.name] ? runsFor(c, EXPECTED) : []));

describe('conformance: the captures replayed against the daemon', { skip: present ? false : `no captures at ${CAPTURES}` }, () => {
  /** Each run's records, per connection, for the checks of named captures at the end. */
  const recorded = new Map<string, AttemptRecord[][]>();
  const daemons = new Map<string, Promise<TestDaemon>>();
  after(async () => {
    for (const d of daemons.values()) await (await d).stop();
  });

  const daemonFor = (run: ConformanceRun): Promise<TestDaemon> => {
    const key = configKey(run);
    let d = daemons.get(key);
    if (!d) {
      d = startTestDaemon({
        carriers: run.carriers.map((c) => ({ ...c })),
        routes: run.routes.map((r) => ({ ...r, carriers: [...r.carriers] })),
      });
      daemons.set(key, d);
    }
    return d;
  };

  test('every capture has an expected row or a reason it is not replayed, and every row has a capture', () => {
    const names = new Set(captures.map((c) => c.name));
    const missing = [...names].filter((n) => !EXPECTED[n] && !NOT_REPLAYED[n]);
    const orphans = Object.keys(EXPECTED).filter((id) => !names.has(id.replace(/(@a2|\+retryAfterRinging)$/, '')));
    assert.deepEqual({ missing, orphans }, { missing: [], orphans: [] });
    assert.ok(captures.length >= 70, `only ${captures.length} captures read`);
  });

  for (const [name, why] of Object.entries(NOT_REPLAYED)) test(`${name} (not replayed)`, { skip: why }, () => undefined);

  for (const run of runs) {
    test(run.id, async (t) => {
      for (const n of run.notes) t.diagnostic(n);
      const d = await daemonFor(run);
      const problems: string[] = [];
      let previous: ChannelState = freshChannel();
      for (const [i, c] of run.connections.entries()) {
        const initial =
          c.start === 'previous' ? previous : c.start === 'after-a1' ? afterDial(freshChannel(), c.captured.attempts[0] as CapturedAttempt) : freshChannel();
        const records0 = d.sink.attempts.length;
        const calls0 = d.calls.length;
        const r = await replay({
          port: d.port,
          header: c.captured.header,
          attempts: c.attempts,
          extras: c.extras,
          initial,
          number: c.captured.extension,
          hangupAfterClose: c.captured.hangupAfterClose,
        });
        const lines: string[] = [];
        try {
          await until(() => d.calls.length > calls0, 2000, 5);
        } catch {
          lines.push('the daemon never finished the call');
        }
        lines.push(...checkConnection(c, r, d.sink.attempts.slice(records0)));
        recorded.set(run.id, [...(recorded.get(run.id) ?? []), d.sink.attempts.slice(records0)]);
        if (lines.length > 0) {
          problems.push(
            `connection ${i + 1} (script ${c.captured.script}, header from ${c.captured.headerSource}, starts ${c.start}):`,
            ...lines.map((l) => `  - ${l}`),
            '  transcript (← Asterisk, → daemon):',
            ...r.transcript.map((l) => `      ${l}`),
          );
        }
        previous = r.state;
      }
      if (problems.length > 0) {
        assert.fail([`${run.id} (${run.capture.file}) does not conform.`, ...run.connections.map((c) => `  rests on ${c.expected.why}`), ...problems].join('\n'));
      }
    });
  }

  // every run above already compared each record's timers with its capture's; these pin a few real values
  test('stored timers equal the real captures\' RINGTIME_MS, PROGRESSTIME_MS and ANSWEREDTIME_MS', () => {
    const dials = (id: string, conn = 0): AttemptRecord[] => (recorded.get(id)?.[conn] ?? []).filter((x) => x.dialString !== '');
    const pick = (x: AttemptRecord | undefined) => x && { verdict: x.verdict, pddMs: x.pddMs, ringtimeMs: x.ringtimeMs, progresstimeMs: x.progresstimeMs, talkMs: x.talkMs };
    // seq_ringout_then_answer: a1 rings out (RINGTIME_MS 2), a stop; from the channel it left, a2 (RINGTIME_MS 2) is answered, ANSWEREDTIME_MS 3002
    assert.deepEqual(dials('seq_ringout_then_answer').map(pick), [{ verdict: 'stop', pddMs: 2, ringtimeMs: 2, progresstimeMs: null, talkMs: 0 }]);
    assert.deepEqual(dials('seq_ringout_then_answer@a2').map(pick), [{ verdict: 'answered', pddMs: 2, ringtimeMs: 2, progresstimeMs: null, talkMs: 3002 }]);
    // seq_503_then_answer a2: ANSWEREDTIME_MS 3004 (RINGTIME_MS 2)
    assert.deepEqual(pick(dials('seq_503_then_answer')[1]), { verdict: 'answered', pddMs: 2, ringtimeMs: 2, progresstimeMs: null, talkMs: 3004 });
    // sip_183_then_503: PROGRESSTIME_MS 2 and no RINGTIME: the post-dial delay is the 183's
    assert.deepEqual(pick(dials('sip_183_then_503')[0]), { verdict: 'stop', pddMs: 2, ringtimeMs: null, progresstimeMs: 2, talkMs: 0 });
    // sip_180_then_503: RINGTIME_MS 3
    assert.deepEqual(pick(dials('sip_180_then_503')[0]), { verdict: 'stop', pddMs: 3, ringtimeMs: 3, progresstimeMs: null, talkMs: 0 });
    // seq_503_then_ringout a1: a 503 at once, nothing rang: no post-dial delay
    assert.deepEqual(pick(dials('seq_503_then_ringout')[0]), { verdict: 'next', pddMs: null, ringtimeMs: null, progresstimeMs: null, talkMs: 0 });
  });
});
