import assert from 'node:assert/strict';
import { test } from 'node:test';
import { previewPlan } from '../../src/ops/plan-preview.js';
import { simulateCall } from '../sim/agi-sim.js';
import { startTestDaemon } from '../support/daemon.js';

test('plan predicts the next real call exactly: round robin start, Dial data with timers and options', async () => {
  const d = await startTestDaemon({ routes: [{ name: 'outbound-failover', strategy: 'round_robin', carriers: ['primary', 'secondary', 'tertiary'] }] });
  try {
    const fail = { kind: 'reject', sip: 503 } as const;
    for (let i = 0; i < 4; i++) {
      const p = previewPlan(d.daemon.routing(), new Map(), { number: '15552345678' }, d.daemon.nextRotation);
      const r = await simulateCall({ port: d.port, args: ['15552345678'], carriers: { 'carrier-primary': fail, 'carrier-b': fail, 'carrier-c': fail } });
      assert.deepEqual(r.dials, p.orders[0]?.dials.map((x) => x.dial), `call ${i + 1}`);
    }
  } finally {
    await d.stop();
  }
});
