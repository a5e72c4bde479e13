import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startService, type Service } from '../../src/service.js';
import { simulateCall, type Behaviour } from '../sim/agi-sim.js';
import { AmiSimulator, peerStatusEvent } from '../sim/ami-server.js';
import { memoryAttemptLog } from '../support/attempt-log.js';
import { dumpDom, findChromium, pngSize, screenshot, type Viewport } from '../support/chromium.js';
import { memoryLog } from '../support/daemon.js';
import { simServiceConfig } from '../support/sim-service.js';
import { freePort } from '../support/free-port.js';
import { MemorySink } from '../support/memory-sink.js';
import { until } from '../support/until.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const NUM = '15552345678';
const LAPTOP: Viewport = { width: 1280, height: 900 };
const PHONE: Viewport = { width: 390, height: 844 };
const CHROMIUM = findChromium();
// every run writes the screenshots; UPDATE_SCREENSHOTS=1 writes them over the ones the README and docs/operations.md embed (docs/)
const SHOTS = process.env['UPDATE_SCREENSHOTS'] === '1' ? join(ROOT, 'docs') : mkdtempSync(join(tmpdir(), 'fa-shots-'));

if (!CHROMIUM) console.log('# status page browser tests SKIPPED: no chromium binary on PATH (apt-get install chromium; .ci/run does)');

/**
 * Lays the daemon's page out at an exact width and reports what the browser computed, through `--dump-dom`:
 * headless Chromium will not make its window narrower than 500 px, so the page goes in an iframe of the width
 * asked (media queries follow the iframe's viewport), with one measuring script appended that writes its figures
 * onto the outer document. The daemon's own page runs no script (its CSP forbids it); this copy is the test's.
 */
function measuringProxy(target: () => string): Promise<{ url(vp: Viewport): string; close(): Promise<void> }> {
  const probe = `<script>(() => {
    const d = document.documentElement;
    const wide = [...document.querySelectorAll('table.carriers tr, table.carriers td, .tiles, .banner, table.events tr')].filter((e) => e.getBoundingClientRect().right > innerWidth + 0.5);
    const out = parent.document.documentElement;
    out.setAttribute('data-viewport', String(innerWidth));
    out.setAttribute('data-scroll-width', String(d.scrollWidth));
    out.setAttribute('data-wide', String(wide.length));
    out.setAttribute('data-stacked', getComputedStyle(document.querySelector('table.carriers tbody tr')).display);
  })();</script>`;
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/') {
      const w = Number(u.searchParams.get('w'));
      const h = Number(u.searchParams.get('h'));
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><body style="margin:0"><iframe src="/page" style="border:0;width:${w}px;height:${h}px"></iframe></body></html>`);
      return;
    }
    fetch(target()).then(
      async (r) => {
        const html = (await r.text()).replace('</body>', `${probe}</body>`);
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(html);
      },
      (err: unknown) => {
        res.writeHead(502);
        res.end(String(err));
      },
    );
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      resolve({ url: (vp) => `http://127.0.0.1:${port}/?w=${vp.width}&h=${vp.height}`, close: () => new Promise((r) => server.close(() => r())) });
    }),
  );
}

/** The `<tr>` of one carrier in the carriers table of a dumped DOM. */
function carrierRow(dom: string, name: string): string {
  const table = /<table class="carriers[^"]*">[\s\S]*?<\/table>/.exec(dom)?.[0] ?? '';
  return table.split('<tr').find((tr) => tr.includes(`<b class="name">${name}</b>`)) ?? '';
}

describe('the status page in a real headless Chromium', { skip: CHROMIUM ? false : 'no chromium binary on PATH' }, () => {
  const bin = CHROMIUM ?? 'chromium';
  let ami: AmiSimulator;
  let svc: Service;
  let page: string;
  const call = (carriers: Record<string, Behaviour>) => simulateCall({ port: svc.daemon.port, args: [NUM], carriers });
  const state = (c: string) => svc.health.snapshot().get(c)?.state;

  before(async () => {
    ami = await AmiSimulator.start();
    ami.setSipPeer('carrier-primary', 'Reachable');
    ami.setEndpoint('carrier-b', ['carrier-b'], [{ aor: 'carrier-b', uri: 'sip:carrier-b@127.0.0.1:5072', status: 'Reachable', rttUsec: 1500 }]);
    ami.setIaxPeer('carrier-c', 'Reachable');
    const config = simServiceConfig(ami.port, 'fa-page-', {
      'http.port': await freePort(),
      serverId: 'dialer-01',
    });
    svc = await startService({ config, configFile: null, log: memoryLog('warn').log, attemptLog: () => memoryAttemptLog(new MemorySink()) });
    page = `http://127.0.0.1:${svc.httpPort}/`;
    await until(() => state('primary') === 'up' && state('secondary') === 'up' && state('tertiary') === 'up', 5000);
    // traffic, so the 15-minute columns are not all zero: answered calls ringing after 1.2-3.4 s (RINGTIME_MS as a
    // real carrier reports it), one failover on a 503 that never rang, answered on secondary after 850 ms
    for (const alertMs of [1200, 1500, 3400]) await call({ 'carrier-primary': { kind: 'answer', alertMs } });
    await call({ 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer', alertMs: 850 } });
  });
  after(async () => {
    await svc?.stop();
    await ami?.close();
  });

  test('renders every carrier, the daemon tiles and the links; the page itself carries no script', async () => {
    const dom = await dumpDom(bin, page, LAPTOP);
    for (const c of ['primary', 'secondary', 'tertiary']) assert.match(carrierRow(dom, c), /<span class="badge st-up">UP<\/span>/, `${c} is shown UP`);
    assert.match(dom, /<h1>failover-agi <span class="server">dialer-01<\/span><\/h1>/);
    assert.match(dom, /<div class="label">AMI<\/div><div class="value">connected<\/div>/);
    assert.match(dom, /<div class="label">Live calls<\/div><div class="value">0<\/div>/);
    assert.match(dom, /No carrier down/);
    assert.match(carrierRow(dom, 'primary'), /data-label="Dials" class="num">4</);
    assert.match(carrierRow(dom, 'primary'), /data-label="Failed" class="num hot">1</);
    assert.match(carrierRow(dom, 'primary'), /data-label="PDD p50\/p95" class="num" title="over 3 Dials that rang">1.5 s \/ 3.4 s</, 'p50 and p95 of 1.2, 1.5 and 3.4 s; the 503 did not ring');
    assert.match(carrierRow(dom, 'secondary'), /data-label="PDD p50\/p95" class="num" title="over 1 Dial that rang">850 ms \/ 850 ms</);
    assert.match(carrierRow(dom, 'tertiary'), /data-label="PDD p50\/p95" class="num">—</);
    assert.equal((dom.match(/<script/g) ?? []).length, 0);
  });

  test('AMI Unreachable: the carrier shows DOWN with the reason, an alarm banner and an ami event; screenshots at 1280x900 and 390x844', async () => {
    ami.setSipPeer('carrier-primary', 'Unreachable');
    await until(() => state('primary') === 'down', 3000);
    const skippedCall = await call({ 'carrier-primary': { kind: 'answer' }, 'carrier-b': { kind: 'answer', alertMs: 2100 } });
    assert.equal(skippedCall.vars.get('FAILOVER_CARRIER'), 'secondary');

    const dom = await dumpDom(bin, page, LAPTOP);
    const row = carrierRow(dom, 'primary');
    assert.match(row, /class="row-down"/);
    assert.match(row, /<span class="badge st-down">DOWN<\/span>/);
    assert.match(row, /PeerStatus Unreachable/);
    assert.match(row, /data-label="Skipped" class="num hot">1</);
    assert.match(carrierRow(dom, 'secondary'), /title="over 2 Dials that rang">850 ms \/ 2.1 s</);
    assert.match(carrierRow(dom, 'secondary'), /st-up">UP</);
    assert.match(dom, /<p class="banner alarm" role="alert">Carrier DOWN: <b>primary<\/b><\/p>/);
    assert.match(dom, /<title>1 DOWN · failover-agi · dialer-01<\/title>/);
    const events = /<table class="events[^"]*">[\s\S]*?<\/table>/.exec(dom)?.[0] ?? '';
    const newest = events.split('<tr').find((tr) => tr.includes('data-label="When"')) ?? '';
    assert.match(newest, /<b>primary<\/b>/);
    assert.match(newest, /st-up">UP<\/span> → <span class="badge st-down">DOWN</);
    assert.match(newest, /data-label="Source">ami</);
    assert.match(newest, /PeerStatus Unreachable/);

    mkdirSync(SHOTS, { recursive: true });
    for (const [file, vp] of [['status-page.png', LAPTOP], ['status-page-phone.png', PHONE]] as const) {
      await screenshot(bin, page, join(SHOTS, file), vp);
      const png = readFileSync(join(SHOTS, file));
      assert.deepEqual(pngSize(png), vp);
      assert.ok(png.length > 20_000, `${file} is ${png.length} bytes: a blank page would be far smaller`);
    }
    console.log(`# screenshots in ${SHOTS}`);
  });

  test('at 390 px the carriers fit: nothing wider than the viewport, the page does not scroll sideways', async () => {
    const proxy = await measuringProxy(() => page);
    try {
      for (const [vp, stacked] of [[PHONE, 'grid'], [LAPTOP, 'table-row']] as const) {
        const dom = await dumpDom(bin, proxy.url(vp), { width: Math.max(vp.width, 800), height: vp.height + 100 });
        const raw = (n: string) => new RegExp(`<html[^>]* ${n}="([^"]*)"`).exec(dom)?.[1];
        const attr = (n: string) => Number(raw(n) ?? NaN);
        assert.equal(raw('data-stacked'), stacked, `carrier rows at ${vp.width} px`);
        assert.equal(attr('data-viewport'), vp.width, 'the probe ran at the requested width');
        assert.ok(attr('data-scroll-width') <= vp.width, `page is ${attr('data-scroll-width')} px wide in a ${vp.width} px viewport`);
        assert.equal(attr('data-wide'), 0, `elements wider than ${vp.width} px`);
      }
    } finally {
      await proxy.close();
    }
  });

  test('a reason from AMI holding markup renders as text: no element, no script run', async () => {
    // a hostile or broken peer: the Cause header of PeerStatus is free text that ends up in the reason
    const hostile = `<script>document.title='owned'</script><img src=x onerror="document.title='owned'">`;
    ami.setIaxPeer('carrier-c', 'Unreachable', 20, false);
    ami.emit(peerStatusEvent('IAX2', 'carrier-c', 'Unreachable', { cause: hostile }));
    await until(() => state('tertiary') === 'down', 3000);
    assert.ok(svc.health.snapshot().get('tertiary')?.reason.includes('<script>'), 'the reason really holds the markup');
    const dom = await dumpDom(bin, page, LAPTOP);
    assert.equal((dom.match(/<script/gi) ?? []).length, 0, 'no script element');
    assert.equal((dom.match(/<img/gi) ?? []).length, 0, 'no img element');
    assert.ok(!dom.includes('owned</title>'), 'nothing ran');
    assert.match(carrierRow(dom, 'tertiary'), /&lt;script&gt;document.title='owned'&lt;\/script&gt;&lt;img src=x onerror="document.title='owned'"&gt;/);
    assert.match(dom, /<title>2 DOWN · failover-agi · dialer-01<\/title>/);
  });
});
