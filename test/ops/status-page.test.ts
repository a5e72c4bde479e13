import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CarrierEvent, HealthState } from '../../src/health/types.js';
import { startHttp } from '../../src/ops/http.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { RecentEvents } from '../../src/ops/recent-events.js';
import { ago, esc, renderStatusPage } from '../../src/ops/status-page.js';
import { CLUSTER_OFF, type CarrierStatus, type DaemonStatus } from '../../src/ops/status.js';
import { memoryLog } from '../support/daemon.js';

const NOW = Date.UTC(2025, 0, 31, 14, 5, 9);
const stats = { dials: 10, answered: 4, failures: 3, skipped: 2, asr: 0.4, pdd: { alerted: 7, p50Ms: 1240, p95Ms: 3400 } };
const carrier = (name: string, state: HealthState, reason = ''): CarrierStatus => ({ name, peer: `peer-${name}`, dial: `SIP/\${number}@${name}`, state, since: NOW - 65_000, reason, last15m: stats, capacity: { channelsInUse: 0, channelCap: null, cpsLastSecond: 0, cpsCap: null, startsTotal: 0, atCap: null }, groups: [], progress: { source: 'configured', seconds: 5, samples: 0, minSamples: 0 } });
const event = (at: number, carrier: string, to: HealthState, reason = 'x'): CarrierEvent => ({ at, carrier, from: 'up', to, source: 'ami', reason });

function status(over: Partial<DaemonStatus> = {}): DaemonStatus {
  return {
    serverId: 'dialer-01',
    now: NOW,
    activeCalls: 2,
    carriers: [carrier('primary', 'up', 'PeerStatus Reachable')],
    routes: [{ name: 'out', script: 'outbound-failover', strategy: 'failover', carriers: ['primary'], maxAttempts: 3, whenAllDown: 'fail-open' }],
    ami: { enabled: true, connected: true, lastEventAt: NOW - 3000 },
    db: { configured: true, connected: true, queued: 0, spoolBytes: 0 },
    events: [],
    cluster: CLUSTER_OFF,
    ...over,
  };
}

describe('the status page HTML', () => {
  test('every state is spelled out in its own colour class', () => {
    const states: HealthState[] = ['up', 'lagged', 'down', 'probing', 'unknown', 'disabled'];
    const html = renderStatusPage(status({ carriers: states.map((s) => carrier(`c-${s}`, s)) }));
    for (const s of states) assert.match(html, new RegExp(`<tr class="row-${s}">[\\s\\S]*?<span class="badge st-${s}">${s.toUpperCase()}</span>`));
  });

  test('outside text is escaped wherever it appears: carrier name, peer, reason, server id, event reason', () => {
    const evil = `<script>alert("x")</script>&'`;
    const html = renderStatusPage(
      status({
        serverId: evil,
        carriers: [{ ...carrier('primary', 'down', evil), name: evil, peer: evil }],
        routes: [{ name: evil, script: 's', strategy: 'failover', carriers: [evil], maxAttempts: 1, whenAllDown: 'fail-open' }],
        events: [{ ...event(NOW - 1000, evil, 'down'), reason: evil }],
      }),
    );
    assert.ok(!html.includes('<script'), 'no raw script tag');
    assert.ok(!html.includes(`alert("x")`), 'quotes are escaped too');
    assert.equal(html.split(esc(evil)).length - 1 >= 7, true, 'each place shows the escaped text');
    assert.equal(esc(evil), '&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#38;&#39;');
  });

  test('a down carrier raises the alarm banner and the title count; none down says so', () => {
    const down = renderStatusPage(status({ carriers: [carrier('primary', 'down'), carrier('b', 'down'), carrier('c', 'up')] }));
    assert.match(down, /<title>2 DOWN · failover-agi · dialer-01<\/title>/);
    assert.match(down, /role="alert">2 carriers DOWN: <b>primary<\/b>, <b>b<\/b>/);
    const fine = renderStatusPage(status());
    assert.match(fine, /<p class="banner ok">No carrier down<\/p>/);
    assert.match(fine, /<title>failover-agi · dialer-01<\/title>/);
  });

  test('AMI and database trouble are banner lines and red tiles; disabled and unconfigured are neutral', () => {
    const bad = renderStatusPage(status({ ami: { enabled: true, connected: false, lastEventAt: null }, db: { configured: true, connected: false, queued: 12, spoolBytes: 4096 } }));
    assert.match(bad, /AMI disconnected/);
    assert.match(bad, /database unreachable/);
    assert.match(bad, /t-bad"><div class="label">AMI<\/div><div class="value">DISCONNECTED<\/div><div class="detail">no event yet/);
    assert.match(bad, /<div class="value">UNREACHABLE<\/div><div class="detail">12 queued · spool 4.0 KiB/);
    const off = renderStatusPage(status({ ami: { enabled: false, connected: false, lastEventAt: null }, db: { configured: false, connected: false, queued: 0, spoolBytes: 0 } }));
    assert.match(off, /<p class="banner ok">/);
    assert.match(off, /t-neutral"><div class="label">AMI<\/div><div class="value">disabled/);
  });

  test('the 15-minute figures, since, live calls and a meta refresh; no script, no external asset', () => {
    const html = renderStatusPage(status(), 7);
    assert.match(html, /data-label="Dials" class="num">10</);
    assert.match(html, /data-label="ASR" class="num">40 %</);
    assert.match(html, /data-label="Failed" class="num hot">3</);
    assert.match(html, /<th class="num">PDD p50\/p95 15m<\/th>/);
    assert.match(html, /data-label="PDD p50\/p95" class="num" title="over 7 Dials that rang">1.2 s \/ 3.4 s</);
    assert.match(html, /data-label="Since"><time datetime="2025-01-31T14:04:04.000Z">2025-01-31 14:04:04<\/time> <span class="ago">for 1 min 5 s<\/span>/);
    assert.match(html, /<div class="label">Live calls<\/div><div class="value">2<\/div>/);
    assert.match(html, /<meta http-equiv="refresh" content="7">/);
    assert.doesNotMatch(html, /<script|<link|src=|url\(|@import|https?:\/\//);
    const none = renderStatusPage(status({ carriers: [{ ...carrier('p', 'unknown'), last15m: { dials: 0, answered: 0, failures: 0, skipped: 0, asr: null, pdd: { alerted: 0, p50Ms: null, p95Ms: null } } }] }));
    assert.match(none, /data-label="ASR" class="num">—</);
    assert.match(none, /data-label="PDD p50\/p95" class="num">—</, 'no Dial rang: a dash, no title');
  });

  test('state changes list from, to, source, reason and when', () => {
    const html = renderStatusPage(status({ events: [{ at: NOW - 90_000, carrier: 'primary', from: 'probing', to: 'up', source: 'breaker', reason: '2 trial calls answered' }] }));
    assert.match(html, /<b>primary<\/b><\/td>\n<td data-label="Change"><span class="badge st-probing">PROBING<\/span> → <span class="badge st-up">UP<\/span><\/td>\n<td data-label="Source">breaker<\/td>\n<td data-label="Reason" class="why">2 trial calls answered<\/td>/);
    assert.match(html, /2025-01-31 14:03:39<\/time> <span class="ago">1 min 30 s ago/);
    assert.match(renderStatusPage(status()), /No state change since the daemon started/);
  });

  test('durations read as an engineer says them', () => {
    const table: [number, string][] = [[0, '0 s'], [59_999, '59 s'], [60_000, '1 min 0 s'], [3_599_000, '59 min 59 s'], [3_600_000, '1 h 0 min'], [90_061_000, '1 d 1 h'], [-5, '0 s']];
    for (const [ms, text] of table) assert.equal(ago(ms), text, `${ms} ms`);
  });
});

describe('the recent carrier events ring', () => {
  test('newest first; keeps only the last N whatever the count', () => {
    const r = new RecentEvents(3);
    assert.deepEqual(r.list(), []);
    for (let i = 1; i <= 2; i++) r.add(event(i, `c${i}`, 'down'));
    assert.deepEqual(r.list().map((e) => e.at), [2, 1]);
    for (let i = 3; i <= 8; i++) r.add(event(i, `c${i}`, 'down'));
    assert.deepEqual(r.list().map((e) => e.at), [8, 7, 6]);
  });
});

describe('GET / on the HTTP port', () => {
  test('serves the page as HTML with a CSP that allows no script; /status stays JSON', async () => {
    const metrics = createMetrics({ activeCalls: () => 0, health: () => new Map(), routes: () => [], now: () => NOW });
    const http = await startHttp({ host: '127.0.0.1', port: 0, metrics, status: () => status(), log: memoryLog('error').log });
    try {
      const r = await fetch(`http://127.0.0.1:${http.port}/?x=1`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      assert.doesNotMatch(r.headers.get('content-security-policy') ?? '', /script-src/);
      assert.match(await r.text(), /^<!doctype html>/);
      const j = await fetch(`http://127.0.0.1:${http.port}/status`);
      assert.equal(((await j.json()) as { serverId: string }).serverId, 'dialer-01');
      assert.equal((await fetch(`http://127.0.0.1:${http.port}/nope`)).status, 404);
    } finally {
      await http.close();
    }
  });
});
