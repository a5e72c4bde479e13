import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { simulateCall } from '../sim/agi-sim.js';
import { startCliDaemon } from '../support/cli-process.js';

/** Opens n sockets that never send a byte (the fd limit of this process bounds n). */
async function openIdle(port: number, n: number): Promise<{ socks: Socket[]; connected: number }> {
  const socks: Socket[] = [];
  let connected = 0;
  const batch = 500;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, () =>
        new Promise<void>((resolve) => {
          const s = connect(port, '127.0.0.1');
          s.on('connect', () => {
            connected++;
            resolve();
          });
          s.on('error', () => resolve());
          socks.push(s);
        }),
      ),
    );
  }
  return { socks, connected };
}

describe('slowloris', () => {
  test('10,000 idle connections that never send a header: calls still flow, memory stays bounded, all are closed', async () => {
    const d = await startCliDaemon({ agi: { port: 0, headerTimeout: 6000 }, log: { level: 'info' } });
    try {
      const { socks: idle, connected } = await openIdle(d.port, 10000);
      assert.ok(connected >= 9900, `opened ${connected}`);
      const rss = d.rssBytes();
      const r = await simulateCall({ port: d.port, args: ['15552345678'], carriers: { 'carrier-primary': { kind: 'answer' } } });
      assert.equal(r.vars.get('FAILOVER_STATUS'), 'ANSWER', 'a real call is served while 10,000 sockets idle');
      assert.ok(rss < 400 * 1024 * 1024, `daemon RSS ${Math.round(rss / 1048576)} MB with 10,000 idle sockets`);
      // the header timeout closes every idle socket
      const deadline = Date.now() + 15000;
      while (idle.some((s) => !s.destroyed && !s.closed) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 200));
      assert.equal(idle.filter((s) => !s.closed).length, 0, 'every idle socket was closed by the daemon');
    } finally {
      d.kill('SIGKILL');
      await d.exited;
    }
  });
});
