import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { peerStatusEvent } from '../sim/ami-server.js';
import { FREE, holdDeadline, onAmiChange, onTimeHold, type HoldDown, type HoldDownSettings } from '../../src/health/hold-down.js';
import { mapRig, ok, parseRaw } from './helpers.js';

const S: HoldDownSettings = { holdDownFlaps: 3, holdDownWindow: 120_000, holdDownQuiet: 60_000 };

/** `D` Asterisk says down, `U` it reaches the carrier again, `t+N` N ms pass; one step per second otherwise. */
type Step = 'D' | 'U' | `t+${number}`;

function run(steps: readonly Step[], s: HoldDownSettings = S): { h: HoldDown; started: number; now: number } {
  let h = FREE;
  let now = 0;
  let down = false;
  let started = 0;
  for (const st of steps) {
    if (st.startsWith('t+')) {
      now += Number(st.slice(2));
      h = onTimeHold(h, now);
      continue;
    }
    now += 1000;
    h = onTimeHold(h, now);
    const isDown = st === 'D';
    const r = onAmiChange(h, down, isDown, now, s);
    if (r.started) started++;
    h = r.next;
    down = isDown;
  }
  return { h, started, now };
}

describe('hold-down, pure', () => {
  // [label, steps, settings override, held at the end, releaseAt relative to the end (null = waiting), holds started]
  const rows: [string, Step[], Partial<HoldDownSettings>, boolean, number | null, number][] = [
    ['two downs: free', ['D', 'U', 'D', 'U'], {}, false, null, 0],
    ['qualify flipping every second: held at the third down', ['D', 'U', 'D', 'U', 'D'], {}, true, null, 1],
    ['held, reachable: the quiet period starts', ['D', 'U', 'D', 'U', 'D', 'U'], {}, true, 60_000, 1],
    ['a new down restarts the wait', ['D', 'U', 'D', 'U', 'D', 'U', 't+30000', 'D'], {}, true, null, 1],
    ['quiet for holdDownQuiet: free, and the count starts again', ['D', 'U', 'D', 'U', 'D', 'U', 't+60000', 'D'], {}, false, null, 1],
    ['downs spread wider than the window never hold', ['D', 'U', 't+60000', 'D', 'U', 't+60000', 'D'], {}, false, null, 0],
    ['holdDownFlaps 0 turns it off', ['D', 'U', 'D', 'U', 'D', 'U', 'D'], { holdDownFlaps: 0 }, false, null, 0],
    ['holdDownFlaps 1: the first down holds', ['D'], { holdDownFlaps: 1 }, true, null, 1],
    ['staying down is one down, not many', ['D', 'D', 'D', 'D', 'D'], {}, false, null, 0],
  ];
  for (const [label, steps, over, held, release, started] of rows) {
    test(label, () => {
      const r = run(steps, { ...S, ...over });
      assert.equal(r.h.held !== null, held);
      assert.equal(r.h.held ? (r.h.held.releaseAt === null ? null : r.h.held.releaseAt - r.now) : null, release);
      assert.equal(r.started, started);
      assert.ok(r.h.downs.length <= Math.max(1, S.holdDownFlaps), 'bounded memory');
    });
  }

  test('deadline is the end of the quiet period', () => {
    const r = run(['D', 'U', 'D', 'U', 'D', 'U']);
    assert.equal(holdDeadline(r.h), r.now + 60_000);
    assert.equal(holdDeadline(FREE), null);
  });
});

describe('hold-down through the health map (ManualClock)', () => {
  const flip = (r: ReturnType<typeof mapRig>, status: 'Reachable' | 'Unreachable') => {
    r.clock.advance(1000);
    r.map.applyAmiEvent(parseRaw(peerStatusEvent('SIP', 'carrier-primary', status)));
  };

  test('a qualify flipping every second takes no call in its up moments until it has been quiet', () => {
    const r = mapRig();
    flip(r, 'Reachable');
    flip(r, 'Unreachable');
    flip(r, 'Reachable');
    assert.equal(r.state('primary'), 'probing', 'first return: trial calls as before');
    flip(r, 'Unreachable');
    flip(r, 'Reachable');
    flip(r, 'Unreachable');
    const warn = r.logs.lines().find((l) => l['msg'] === 'carrier flapping: held down');
    assert.equal(warn?.['carrier'], 'primary');
    flip(r, 'Reachable');
    assert.equal(r.state('primary'), 'down', 'reachable, but held down');
    assert.match(r.reason('primary') ?? '', /held down: 3 Asterisk downs within 120 s \(flapping qualify\); released at .* \(now: PeerStatus Reachable\)/);
    assert.equal(r.map.claimProbe('primary'), false);
    assert.equal(r.map.inspect().get('primary')?.heldDown?.releaseAt, r.clock.now() + 60_000);
    flip(r, 'Unreachable');
    flip(r, 'Reachable');
    r.clock.advance(59_999);
    assert.equal(r.state('primary'), 'down');
    r.clock.advance(1);
    assert.equal(r.state('primary'), 'probing', 'released into trial calls, not straight to up');
    r.map.recordAttempt(ok('primary'));
    r.map.recordAttempt(ok('primary'));
    assert.equal(r.state('primary'), 'up');
    assert.ok(r.logs.lines().some((l) => l['msg'] === 'carrier hold-down over: quiet long enough'));
  });

  test('holdDownFlaps 0: the old behaviour, every return is a trial', () => {
    const r = mapRig({ health: { holdDownFlaps: 0 } });
    for (let i = 0; i < 5; i++) {
      flip(r, 'Unreachable');
      flip(r, 'Reachable');
      assert.equal(r.state('primary'), 'probing');
    }
  });
});
