import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { initialState, nextDeadline, step, type CoreSettings, type CoreState, type Input } from '../../src/health/health-core.js';
import type { AttemptSignal } from '../../src/health/types.js';
import { CARRIERS, HEALTH, ROUTES } from './helpers.js';

/**
 * step() leaves out advance() when nothing is due: that is right only if a tick before nextDeadline() changes
 * nothing. Checked along seeded random runs of every input that sets a deadline (failures that open breakers, group
 * ejections, trials, operator holds with an end, AMI loss, silence that makes a carrier suspect).
 */

const NOW = 1_800_000_000_000;
const S: CoreSettings = { ...HEALTH, staleAfter: 30_000, trialWait: 0 };
const NAMES = ['primary', 'secondary', 'tertiary'];
const GROUPS = [null, 'uk-mobile', 'us'];

function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

function randomInput(r: () => number, at: number): Input {
  const carrier = NAMES[Math.floor(r() * NAMES.length)] as string;
  const group = GROUPS[Math.floor(r() * GROUPS.length)] ?? null;
  const k = r();
  if (k < 0.55) {
    const fail = r() < 0.7;
    const signal: AttemptSignal = { carrier, carrierFailure: fail, carrierSuccess: !fail && r() < 0.8, reason: 'test', at, group, response: r() < 0.3 ? 'none' : 'some', suspectClaim: r() < 0.2 };
    return { kind: 'attempt', signal };
  }
  if (k < 0.7) return { kind: 'claim', carrier, group };
  if (k < 0.78) return { kind: 'claim-suspect', carrier, inFlight: 0 };
  if (k < 0.84) return { kind: 'admin', carrier, hold: r() < 0.5 ? null : { mode: 'force-down', until: at + Math.floor(r() * 60_000), reason: 'test' } };
  if (k < 0.9) return r() < 0.5 ? { kind: 'ami-down' } : { kind: 'ami-up' };
  return { kind: 'tick' };
}

/** Where a tick shows change: the carrier map's identity, the AMI link, events and notes. */
function tickChanges(st: CoreState, at: number): boolean {
  const t = step(st, S, { kind: 'tick' }, at);
  return t.state.carriers !== st.carriers || t.state.ami.stale !== st.ami.stale || t.events.length > 0 || t.notes.length > 0;
}

describe('a step with nothing due skips what time alone changes', () => {
  test('before nextDeadline a tick changes nothing; at it, the step sees the change', () => {
    let checked = 0;
    let dueSeen = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const r = lcg(seed);
      let st = initialState(CARRIERS, ROUTES, S, NOW);
      let now = NOW;
      for (let i = 0; i < 150; i++) {
        const due = nextDeadline(st, S);
        if (due !== null && due > now) {
          assert.equal(tickChanges(st, due - 1), false, `seed ${seed} step ${i}: a tick 1 ms before the deadline changed the state`);
          checked++;
          if (tickChanges(st, due)) dueSeen++;
        }
        // mostly small steps, sometimes past a deadline
        now += r() < 0.15 && due !== null ? Math.max(0, due - now) + Math.floor(r() * 1000) : Math.floor(r() * 2000);
        st = step(st, S, randomInput(r, now), now).state;
      }
    }
    assert.ok(checked > 500, `only ${checked} deadlines checked`);
    assert.ok(dueSeen > 50, `only ${dueSeen} deadlines changed anything: the runs do not reach the timed rules`);
  });

  test('an ejection that has run out is over before the attempt that comes after it is judged', () => {
    const fail = (at: number): Input => ({ kind: 'attempt', signal: { carrier: 'primary', carrierFailure: true, carrierSuccess: false, reason: '503', at, group: null, response: 'some' } });
    let st = initialState(CARRIERS, ROUTES, S, NOW);
    for (const i of [1, 2, 3]) st = step(st, S, fail(NOW + i), NOW + i).state;
    assert.equal(st.carriers.get('primary')?.breaker.kind, 'open');
    const due = nextDeadline(st, S) ?? 0;
    const ok: Input = { kind: 'attempt', signal: { carrier: 'primary', carrierFailure: false, carrierSuccess: true, reason: 'answered', at: due + 1, group: null, response: 'some' } };
    const after = step(st, S, ok, due + 1);
    assert.notEqual(after.state.carriers.get('primary')?.breaker.kind, 'open', 'the ejection ended first, then the success counted toward recovery');
    assert.ok(after.events.some((e) => e.carrier === 'primary' && e.from === 'down'), 'the end of the ejection is an event of this step');
  });

  test('a carrier left suspect under a rule switched off is cleared by the next step, whatever it is', () => {
    const silent: Input = { kind: 'attempt', signal: { carrier: 'primary', carrierFailure: true, carrierSuccess: false, reason: 'no response', at: NOW + 1, group: null, response: 'none' } };
    const st = step(initialState(CARRIERS, ROUTES, S, NOW), S, silent, NOW + 1).state;
    assert.notEqual(st.carriers.get('primary')?.suspect, null);
    const off: CoreSettings = { ...S, suspectAfterNoResponse: false };
    const claim = step(st, off, { kind: 'claim', carrier: 'secondary', group: null }, NOW + 2);
    assert.equal(claim.state.carriers.get('primary')?.suspect, null);
  });
});
