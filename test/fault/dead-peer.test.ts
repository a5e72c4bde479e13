import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { startTestDaemon } from '../support/daemon.js';
import { until } from '../support/until.js';
import { silentPeer } from './silent-peer.js';

const NUM = '15552345678';

/** The kernel's timer on our end of the connection (/proc/net/tcp `tr` field: 0 none, 1 retransmit, 2 keepalive). */
function serverSocketTimer(daemonPort: number, peerPort: number): { timer: number; whenMs: number } | null {
  const hex = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6) continue;
    if (f[1]?.endsWith(`:${hex(daemonPort)}`) && f[2]?.endsWith(`:${hex(peerPort)}`)) {
      const [tr, when] = (f[5] ?? '0:0').split(':');
      // jiffies in hex; USER_HZ is 100 on every Linux we run on
      return { timer: Number.parseInt(tr ?? '0', 16), whenMs: Number.parseInt(when ?? '0', 16) * 10 };
    }
  }
  return null;
}

describe('a dead peer: Asterisk vanishes mid-Dial without a FIN', () => {
  test('agi.maxCallDuration: the Dial is given up, its attempt recorded as interrupted, the socket destroyed, the live set empty', async () => {
    const d = await startTestDaemon({ overrides: { 'agi.maxCallDuration': 400 } });
    try {
      const peer = silentPeer(d.port, { uniqueid: '1900.1', number: NUM });
      await peer.dialSent;
      assert.equal(d.daemon.server.activeCalls, 1);
      const ms = await peer.closed;
      assert.ok(ms >= 350 && ms < 2000, `closed ${ms} ms after the Dial (bound 400 ms)`);
      await until(() => d.daemon.server.activeCalls === 0, 2000);
      const rows = d.sink.attempts.filter((r) => r.uniqueid === '1900.1');
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.verdict, 'interrupted');
      assert.equal(rows[0]?.carrier, 'primary');
      assert.match(rows[0]?.reason ?? '', /agi\.maxCallDuration \(400 ms\)/);
      // the channel was told DIALING before the Dial and nothing after: a dialplan never dials it again
      const sets = peer.commands.filter((c) => c.startsWith('SET VARIABLE'));
      assert.deepEqual(sets, ['SET VARIABLE FAILOVER_STATUS "DIALING"']);
      assert.equal(d.calls.length, 1, 'the call finished (it left the live set)');
    } finally {
      await d.stop();
    }
  });

  test('agi.maxCallDuration 0: no bound, the Dial stays pending', async () => {
    const d = await startTestDaemon({ overrides: { 'agi.maxCallDuration': 0 } });
    try {
      const peer = silentPeer(d.port, { uniqueid: '1900.2', number: NUM });
      await peer.dialSent;
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(d.daemon.server.activeCalls, 1);
      assert.equal(peer.socket.destroyed, false);
      peer.socket.destroy();
    } finally {
      await d.stop();
    }
  });

  test('accepted AGI sockets carry a TCP keepalive timer of agi.keepAliveIdle (none with 0)', { skip: existsSync('/proc/net/tcp') ? false : 'no /proc/net/tcp here' }, async () => {
    for (const idle of [7000, 0]) {
      const d = await startTestDaemon({ overrides: { 'agi.keepAliveIdle': idle, 'agi.maxCallDuration': 0 } });
      try {
        const peer = silentPeer(d.port, { uniqueid: `1900.k${idle}`, number: NUM });
        await peer.dialSent;
        // until the Dial line is acked the retransmit timer (1) shows instead
        await until(() => serverSocketTimer(d.port, peer.localPort())?.timer !== 1, 2000);
        const t = serverSocketTimer(d.port, peer.localPort());
        assert.ok(t, 'the daemon\'s socket is in /proc/net/tcp');
        if (idle > 0) {
          assert.equal(t.timer, 2, 'keepalive timer armed');
          assert.ok(t.whenMs > 5000 && t.whenMs <= 7000, `first probe in ${t.whenMs} ms (idle ${idle} ms)`);
        } else {
          assert.equal(t.timer, 0, 'no timer without keepalive');
        }
        peer.socket.destroy();
      } finally {
        await d.stop();
      }
    }
  });
});
