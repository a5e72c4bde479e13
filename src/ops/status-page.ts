import type { CarrierEvent, HealthState, QualityState } from '../health/types.js';
import { progressText } from '../routing/progress-timeout.js';
import { budgetNote, capacityText, pddText, progressShort, qualityNote, spendText, type CarrierStatus, type DaemonStatus } from './status.js';

/**
 * `GET /`: the daemon's state as one self-contained HTML page for an ops engineer's laptop or phone. Server-rendered,
 * no script, no external asset (it must work on a box with no internet), refreshed by the browser every few seconds.
 * Carrier names come from the config and reasons from AMI (a PeerStatus Cause is whatever the peer sent): every
 * value goes through esc().
 */
export function renderStatusPage(s: DaemonStatus, refreshSeconds = 5): string {
  const down = s.carriers.filter((c) => c.state === 'down');
  const title = `${down.length > 0 ? `${down.length} DOWN · ` : ''}failover-agi · ${s.serverId}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${refreshSeconds}">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>failover-agi <span class="server">${esc(s.serverId)}</span></h1>
<p class="updated">at ${esc(clockTime(s.now))} UTC · refreshes every ${refreshSeconds} s</p>
</header>
${banner(s, down)}
<section class="tiles" aria-label="daemon">
${tile('Live calls', String(s.activeCalls), s.activeCalls > 0 ? 'busy' : 'neutral', '')}
${amiTile(s)}
${dbTile(s)}${clusterTile(s)}
</section>
<section>
<h2>Carriers <span class="h2note">counts over the last 15 min</span></h2>
<table class="carriers stack">
<thead><tr><th>Carrier</th><th>State</th><th>Since</th><th>Why</th><th class="num">Dials 15m</th><th class="num">ASR 15m</th><th class="num">Failed 15m</th><th class="num">Skipped 15m</th><th class="num">PDD p50/p95 15m</th><th class="num">Channels · cps now (spend)</th></tr></thead>
<tbody>
${s.carriers.map((c) => carrierRow(c, s.now)).join('\n')}
</tbody>
</table>
${s.routes.length > 0 ? `<ul class="routes">${s.routes.map((r) => `<li><b>${esc(r.name)}</b> <span class="muted">(${esc(r.strategy)})</span>: ${r.carriers.map((c) => routeCarrier(c, s.carriers)).join(' → ')}</li>`).join('')}</ul>` : ''}
</section>
<section>
<h2>Last state changes</h2>
${eventsTable(s.events, s.now)}
</section>
<footer>JSON: <a href="/status">/status</a> · Prometheus: <a href="/metrics">/metrics</a> · <a href="/healthz">/healthz</a></footer>
</body>
</html>
`;
}

const STATE_WORD: Record<HealthState | QualityState, string> = { up: 'UP', lagged: 'LAGGED', down: 'DOWN', probing: 'PROBING', unknown: 'UNKNOWN', disabled: 'DISABLED', ok: 'OK', demoted: 'DEMOTED' };

export function esc(v: string): string {
  return v.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function badge(state: HealthState | QualityState): string {
  return `<span class="badge st-${state}">${STATE_WORD[state] ?? esc(String(state))}</span>`;
}

function banner(s: DaemonStatus, down: readonly CarrierStatus[]): string {
  const problems: string[] = [];
  if (down.length > 0) problems.push(`${down.length === 1 ? 'Carrier' : `${down.length} carriers`} DOWN: ${down.map((c) => `<b>${esc(c.name)}</b>`).join(', ')}`);
  if (s.ami.enabled && !s.ami.connected) problems.push('AMI disconnected: carrier states go unknown');
  if (s.db.configured && !s.db.connected) problems.push('database unreachable: attempts go to the spool');
  if (s.cluster.enabled && !s.cluster.up) problems.push('cluster view lost: this dialer decides carrier health alone');
  if (s.cluster.spend && !s.cluster.spend.up) problems.push(`cluster spend view stale: budgets count this dialer's spend + the peers' as last read${s.cluster.spend.lastReadAt !== null ? ` ${ago(s.now - s.cluster.spend.lastReadAt)} ago` : ' (never)'}`);
  for (const c of s.carriers) if (c.capacity.atCap) problems.push(`<b>${esc(c.name)}</b> ${esc(c.capacity.atCap)}: calls go to the next carrier`);
  for (const c of s.carriers) if (c.cost?.over) problems.push(`<b>${esc(c.name)}</b> ${esc(budgetNote(c))}`);
  for (const c of s.carriers) if (c.quality?.state === 'demoted') problems.push(`<b>${esc(c.name)}</b> demoted for quality: dialed after the others`);
  if (problems.length === 0) return '<p class="banner ok">No carrier down</p>';
  return `<p class="banner alarm" role="alert">${problems.join('<br>')}</p>`;
}

function tile(label: string, value: string, tone: string, detail: string): string {
  return `<div class="tile t-${tone}"><div class="label">${esc(label)}</div><div class="value">${esc(value)}</div>${detail ? `<div class="detail">${esc(detail)}</div>` : ''}</div>`;
}

function amiTile(s: DaemonStatus): string {
  if (!s.ami.enabled) return tile('AMI', 'disabled', 'neutral', 'health from the breaker only');
  const last = s.ami.lastEventAt === null ? 'no event yet' : `last event ${ago(s.now - s.ami.lastEventAt)} ago`;
  return s.ami.connected ? tile('AMI', 'connected', 'good', last) : tile('AMI', 'DISCONNECTED', 'bad', last);
}

function dbTile(s: DaemonStatus): string {
  if (!s.db.configured) return tile('Database', 'none', 'neutral', 'attempts only logged');
  const detail = `${s.db.queued} queued · spool ${bytes(s.db.spoolBytes)}`;
  return s.db.connected ? tile('Database', 'connected', s.db.spoolBytes > 0 ? 'warn' : 'good', detail) : tile('Database', 'UNREACHABLE', 'bad', detail);
}

/** Only with cluster.enabled: a single dialer has no cluster to show. */
function clusterTile(s: DaemonStatus): string {
  const c = s.cluster;
  if (!c.enabled) return '';
  const peers = c.peers.length === 0 ? 'no peer has published yet' : `peers: ${c.peers.map((p) => p.server).join(', ')}`;
  if (c.up) return tile('Cluster', 'sharing', 'good', peers);
  return tile('Cluster', 'ALONE', 'bad', `view lost${c.lostSince !== null ? ` ${ago(s.now - c.lostSince)} ago` : ''}${c.lastError ? `: ${c.lastError}` : ''}`);
}

/** Spend against budget under the channels, for a carrier with a budget or a price: a line of its own that wraps, so the table keeps its width. */
function spendCell(c: CarrierStatus): string {
  const k = c.cost;
  if (!k || (k.budget.length === 0 && !k.priced)) return '';
  const note = budgetNote(c);
  return `<span class="spend${k.over ? ' hot' : ''}"${note ? ` title="${esc(note)}"` : ''}>${esc(spendText(c))}</span>`;
}

/** The progress timeout under the delays it is learned from: a line of its own, the whole source in its title. */
function progressCell(c: CarrierStatus): string {
  const learned = c.progress.source === 'learned';
  return `<span class="spend" title="progress timeout ${esc(progressText(c.progress))}">timeout ${esc(learned ? `${c.progress.seconds} s learned` : progressShort(c))}</span>`;
}

function carrierRow(c: CarrierStatus, now: number): string {
  const r = c.last15m;
  const asr = r.asr === null ? '—' : `${Math.round(r.asr * 100)} %`;
  const pdd = pddText(c);
  return `<tr class="row-${c.state}">
<td data-label="Carrier"><b class="name">${esc(c.name)}</b><span class="peer">${esc(c.peer)}</span></td>
<td data-label="State">${badge(c.state)}${qualityBadge(c)}</td>
<td data-label="Since">${since(c.since, now)}</td>
<td data-label="Why" class="why">${c.reason ? esc(c.reason) : '<span class="muted">—</span>'}${c.groups.map((g) => `<br><b>${g.state === 'down' ? 'ejected' : 'probing'} for ${esc(g.group)}</b>: ${esc(g.reason)}`).join('')}${qualityWhy(c)}</td>
<td data-label="Dials" class="num">${r.dials}</td>
<td data-label="ASR" class="num">${asr}</td>
<td data-label="Failed" class="num${r.failures > 0 ? ' hot' : ''}">${r.failures}</td>
<td data-label="Skipped" class="num${r.skipped > 0 ? ' hot' : ''}">${r.skipped}</td>
<td data-label="PDD p50/p95" class="num"${r.pdd.alerted > 0 ? ` title="over ${r.pdd.alerted} Dial${r.pdd.alerted === 1 ? '' : 's'} that rang"` : ''}>${pdd === '-' ? '—' : esc(pdd)}${progressCell(c)}</td>
<td data-label="Channels · cps" class="num${c.capacity.atCap ? ' hot' : ''}"${c.capacity.atCap ? ` title="${esc(c.capacity.atCap)}"` : ''}>${esc(capacityText(c))}${spendCell(c)}</td>
</tr>`;
}

/** A demoted carrier (or one demoted for a prefix group) gets a second badge under its health state. */
function qualityBadge(c: CarrierStatus): string {
  const q = c.quality;
  if (!q || (q.state !== 'demoted' && q.groups.length === 0)) return '';
  return `<br>${badge('demoted')}`;
}

/** Why a demoted carrier is dialed after the others: the figures that demoted it. */
function qualityWhy(c: CarrierStatus): string {
  const note = qualityNote(c);
  return note ? `<br><b>quality</b>: ${esc(note)}` : '';
}

function routeCarrier(name: string, carriers: readonly CarrierStatus[]): string {
  const st = carriers.find((c) => c.name === name)?.state ?? 'unknown';
  return `<span class="rc st-text-${st}">${esc(name)}</span>`;
}

function eventsTable(events: readonly CarrierEvent[], now: number): string {
  if (events.length === 0) return '<p class="muted">No state change since the daemon started.</p>';
  return `<table class="events stack">
<thead><tr><th>When</th><th>Carrier</th><th>Change</th><th>Source</th><th>Reason</th></tr></thead>
<tbody>
${events
  .map(
    (e) => `<tr class="row-${e.to}">
<td data-label="When"><time datetime="${esc(new Date(e.at).toISOString())}">${esc(clockTime(e.at))}</time> <span class="ago">${ago(now - e.at)} ago</span></td>
<td data-label="Carrier"><b>${esc(e.carrier)}</b></td>
<td data-label="Change">${badge(e.from)} → ${badge(e.to)}</td>
<td data-label="Source">${esc(e.source)}</td>
<td data-label="Reason" class="why">${esc(e.reason)}</td>
</tr>`,
  )
  .join('\n')}
</tbody>
</table>`;
}

function since(at: number, now: number): string {
  if (at <= 0) return '<span class="muted">since start</span>';
  return `<time datetime="${esc(new Date(at).toISOString())}">${esc(clockTime(at))}</time> <span class="ago">for ${ago(now - at)}</span>`;
}

/** `2025-01-31 14:05:09`, UTC: the same clock the logs and the attempt log use. */
function clockTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

export function ago(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

const CSS = `
:root{--bg:#f4f6f8;--card:#fff;--ink:#1c2430;--muted:#667085;--line:#d8dee6;
--up:#17803d;--lagged:#b25e00;--down:#c8102e;--probing:#1d5fbf;--unknown:#5f6b7a;--disabled:#3b3f46}
*{box-sizing:border-box}
body{margin:0;padding:16px;background:var(--bg);color:var(--ink);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{display:flex;flex-wrap:wrap;align-items:baseline;justify-content:space-between;gap:4px 16px}
h1{font-size:20px;margin:0}
h1 .server{font-weight:400;color:var(--muted)}
h2{font-size:16px;margin:22px 0 8px}
.h2note{font-size:13px;font-weight:400;color:var(--muted);margin-left:6px}
.updated,.muted{color:var(--muted)}
.updated{margin:0;font-size:13px}
.banner{margin:12px 0;padding:10px 14px;border-radius:6px;font-weight:600}
.banner.ok{background:#e5f4ea;color:var(--up);border:1px solid #b7dfc4}
.banner.alarm{background:var(--down);color:#fff;font-size:17px}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px}
.tile{background:var(--card);border:1px solid var(--line);border-left:6px solid var(--unknown);border-radius:6px;padding:8px 12px}
.tile .label{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.tile .value{font-size:20px;font-weight:700}
.tile .detail{font-size:13px;color:var(--muted)}
.t-good{border-left-color:var(--up)}.t-good .value{color:var(--up)}
.t-bad{border-left-color:var(--down);background:#fdecee}.t-bad .value{color:var(--down)}
.t-warn{border-left-color:var(--lagged)}
.t-busy{border-left-color:var(--probing)}
table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:6px}
th,td{padding:7px 10px;text-align:left;vertical-align:top;border-bottom:1px solid var(--line)}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);background:#eef1f5}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.spend{display:block;white-space:normal}
.hot{color:var(--down);font-weight:700}
.name{display:block}.peer{display:block;font-size:12px;color:var(--muted);overflow-wrap:anywhere}
.carriers td:first-child{min-width:8.5em}
td[data-label="Since"],td[data-label="When"]{white-space:nowrap}
.ago{display:block;color:var(--muted);font-size:13px}
.why{overflow-wrap:anywhere;word-break:break-word}
.badge{display:inline-block;min-width:76px;text-align:center;padding:2px 8px;border-radius:4px;font-size:12px;font-weight:700;letter-spacing:.05em;color:#fff;background:var(--unknown)}
.st-up{background:var(--up)}.st-lagged{background:var(--lagged)}.st-down{background:var(--down);box-shadow:0 0 0 2px #fff,0 0 0 4px var(--down)}
.st-probing{background:var(--probing)}.st-unknown{background:var(--unknown)}.st-disabled{background:var(--disabled)}
.st-ok{background:var(--up)}.st-demoted{background:var(--lagged)}
.carriers tr.row-down td{background:#fdecee}
.carriers tr.row-down td:first-child{box-shadow:inset 6px 0 0 var(--down)}
.routes{margin:10px 0 0;padding-left:18px}
.rc{font-weight:600}.st-text-up{color:var(--up)}.st-text-lagged{color:var(--lagged)}.st-text-down{color:var(--down);text-decoration:line-through}
.st-text-probing{color:var(--probing)}.st-text-unknown,.st-text-disabled{color:var(--unknown)}
footer{margin-top:24px;font-size:13px;color:var(--muted)}
a{color:var(--probing)}
@media (max-width:720px){
body{padding:10px}
table.stack,table.stack tbody,table.stack tr,table.stack td{display:block;width:auto}
table.stack{border:0;background:none}
table.stack thead{display:none}
table.stack tr{background:var(--card);border:1px solid var(--line);border-radius:6px;margin-bottom:10px;padding:8px 0 6px}
table.stack td{border:0;padding:2px 12px;display:flex;gap:10px;text-align:left;min-width:0;white-space:normal}
table.stack td::before{content:attr(data-label);flex:0 0 64px;font-size:11px;font-weight:400;text-transform:uppercase;letter-spacing:.03em;color:var(--muted);padding-top:2px}
table.stack.carriers tr{display:grid;grid-template-columns:repeat(4,1fr)}
.carriers td[data-label="Carrier"]{grid-column:1/span 3;display:block}
.carriers td[data-label="Carrier"] .name{display:inline;font-size:17px;margin-right:8px}
.carriers td[data-label="Carrier"] .peer{display:inline}
.carriers td[data-label="State"]{grid-column:4;justify-content:flex-end}
.carriers td[data-label="Carrier"]::before,.carriers td[data-label="State"]::before{content:none}
.carriers td[data-label="Since"],.carriers td[data-label="Why"]{grid-column:1/-1}
.carriers td.num{display:block;text-align:left;margin-top:4px}
.carriers td.num::before{display:block}
.carriers td[data-label="PDD p50/p95"],.carriers td[data-label="Channels · cps"]{grid-column:span 2}
.ago{display:inline}
table.stack.carriers tr.row-down{border:2px solid var(--down);box-shadow:inset 6px 0 0 var(--down);background:#fdecee}
.carriers tr.row-down td{background:none}
.carriers tr.row-down td:first-child{box-shadow:none}
table.stack.events tr{display:grid;grid-template-columns:1fr auto}
.events td[data-label="When"]{grid-column:1}
.events td[data-label="Carrier"]{grid-column:2}
.events td[data-label="Change"],.events td[data-label="Source"],.events td[data-label="Reason"]{grid-column:1/-1}
.events td[data-label="When"]::before,.events td[data-label="Carrier"]::before,.events td[data-label="Change"]::before{content:none}
}`;
