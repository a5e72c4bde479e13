import type { RouteEntry } from './carriers.js';
import type { LoadedConfig } from './load.js';
import type { DaemonSettings } from './schema.js';
import { settingKeys, valueAt } from './schema-keys.js';
import type { CarrierConfig } from './types.js';

/**
 * What a reload (SIGHUP) does with each setting: `live` ones take effect at once (for new calls and connections;
 * a call in progress keeps what it started with), `restart` ones are kept as they are until the daemon restarts.
 * Every schema key is here: a test fails when a new key is not classified.
 */
export interface ReloadRule {
  readonly live: boolean;
  /** For live keys: what changes and when; for restart keys: why a reload cannot change it. */
  readonly note: string;
}

const live = (note: string): ReloadRule => ({ live: true, note });
const restart = (note: string): ReloadRule => ({ live: false, note });

const NEW_CONNECTIONS = live('new AGI connections; calls in progress keep theirs');
const AMI_RECONNECT = live('AMI logs in again with the new value and resyncs (carrier states stand meanwhile, at most ami.staleAfter)');
const HEALTH = live('the next health decisions; an ejected or held-down carrier keeps the end it was given');
const QUALITY = live('the next judgement of each carrier (at most a second away); a demoted carrier keeps its demotion time');
const STORE = live('the attempt log\'s next batches');
const DB = restart('the database pool is opened at start');
const CLUSTER = restart('shared health and its database pool are started with these at start');

export const RELOAD_RULES: Readonly<Record<string, ReloadRule>> = {
  serverId: restart('names this dialer in the attempt log and /status from start'),
  'agi.host': restart('the AGI socket is bound at start'),
  'agi.port': restart('the AGI socket is bound at start'),
  'agi.allowedPeers': NEW_CONNECTIONS,
  'agi.headerTimeout': NEW_CONNECTIONS,
  'agi.commandTimeout': NEW_CONNECTIONS,
  'agi.maxHeaderBytes': NEW_CONNECTIONS,
  'agi.maxLineBytes': NEW_CONNECTIONS,
  'agi.listenBacklog': restart('the listen queue is set when the AGI socket is bound'),
  'agi.maxConnections': NEW_CONNECTIONS,
  'agi.keepAliveIdle': NEW_CONNECTIONS,
  'agi.maxCallDuration': NEW_CONNECTIONS,
  'agi.sharedKey': live('new AGI connections must send the new key (regenerate and reload the dialplan too)'),
  'agi.sharedKeyFile': live('read again on every reload; new AGI connections must send its key'),
  'log.level': live('every line from now on, calls in progress included (a call\'s child logger follows the daemon\'s level)'),
  'log.pretty': restart('the log output is chosen at start'),
  'log.showNumbers': live('new calls'),
  'ami.enabled': restart('the health map is built with or without AMI at start'),
  'ami.host': AMI_RECONNECT,
  'ami.port': AMI_RECONNECT,
  'ami.username': AMI_RECONNECT,
  'ami.secret': AMI_RECONNECT,
  'ami.secretFile': AMI_RECONNECT,
  'ami.reconnectMin': AMI_RECONNECT,
  'ami.reconnectMax': AMI_RECONNECT,
  'ami.actionTimeout': AMI_RECONNECT,
  'ami.staleAfter': live('the next AMI loss, and AMI\'s keepalive after it logs in again'),
  'health.laggedRtt': HEALTH,
  'health.laggedRttMaxAge': HEALTH,
  'health.outageLeadTime': HEALTH,
  'health.holdDownFlaps': HEALTH,
  'health.holdDownWindow': HEALTH,
  'health.holdDownQuiet': HEALTH,
  'health.consecutiveFailures': HEALTH,
  'health.window': HEALTH,
  'health.failureRatio': HEALTH,
  'health.minVolume': HEALTH,
  'health.baseEjection': HEALTH,
  'health.maxEjection': HEALTH,
  'health.recoverySuccesses': HEALTH,
  'health.maxEjectedPercent': HEALTH,
  'health.suspectAfterNoResponse': HEALTH,
  'health.quality.enabled': QUALITY,
  'health.quality.recentWindow': QUALITY,
  'health.quality.baselineWindow': QUALITY,
  'health.quality.minDials': QUALITY,
  'health.quality.minBaselineDials': QUALITY,
  'health.quality.minSamples': QUALITY,
  'health.quality.asrDrop': QUALITY,
  'health.quality.asrFloor': QUALITY,
  'health.quality.pddRise': QUALITY,
  'health.quality.pddRiseMs': QUALITY,
  'health.quality.pddCeiling': QUALITY,
  'health.quality.shortCall': QUALITY,
  'health.quality.shortShareRise': QUALITY,
  'health.quality.shortShareCeiling': QUALITY,
  'health.quality.recoverMargin': QUALITY,
  'health.quality.minDemoted': QUALITY,
  'db.host': DB,
  'db.port': DB,
  'db.user': DB,
  'db.password': DB,
  'db.database': DB,
  'cluster.enabled': CLUSTER,
  'cluster.pollMs': CLUSTER,
  'cluster.staleAfter': CLUSTER,
  'cluster.trialWait': CLUSTER,
  'store.spoolDir': restart('the spool and journal are opened at start'),
  'store.flushRows': STORE,
  'store.flushMs': STORE,
  'store.queueLimit': STORE,
  'store.spoolMaxBytes': STORE,
  'store.fsyncMs': STORE,
  'http.host': restart('/metrics and /status are bound at start'),
  'http.port': restart('/metrics and /status are bound at start'),
  'control.socket': restart('the control socket is bound at start'),
  'control.stateFile': restart('drains and force-downs were read from it at start'),
  'shutdown.grace': live('the next SIGTERM'),
  carriers: live('new calls; calls in progress keep theirs'),
  routes: live('new calls; calls in progress keep theirs'),
  prefixGroups: live('new calls; ejections for a group that no longer exists end, kept groups keep theirs'),
};

/** An unclassified key (only possible before the table test runs) is treated as the safe case: not applied. */
export function ruleFor(key: string): ReloadRule {
  return RELOAD_RULES[key] ?? restart('not classified for reload');
}

const SECRET = new Set(settingKeys().filter((k) => k.sensitive).map((k) => k.key));
export const isSecret = (key: string): boolean => SECRET.has(key);

/**
 * A config as a reload compares it: every setting by dotted key (carriers and routes apart), and the carriers and
 * routes as validated. Plain data, so the running daemon can send it over the control socket.
 */
export interface ConfigView {
  readonly settings: Readonly<Record<string, unknown>>;
  readonly carriers: readonly CarrierConfig[];
  readonly routes: readonly RouteEntry[];
}

const ROUTING_KEYS = new Set(['carriers', 'routes']);

export function configView(cfg: Pick<LoadedConfig, 'settings' | 'routing'>): ConfigView {
  const settings: Record<string, unknown> = {};
  for (const { key } of settingKeys()) if (!ROUTING_KEYS.has(key)) settings[key] = valueAt(cfg.settings, key);
  return { settings, carriers: [...cfg.routing.carriers.values()], routes: [...cfg.routing.routes.values()] };
}

export interface KeyChange {
  readonly key: string;
  /** Never shown for a secret (a view sent by the daemon holds no secret value anyway). */
  readonly from: unknown;
  readonly to: unknown;
  readonly secret: boolean;
  readonly live: boolean;
  readonly note: string;
}

export interface FieldChange {
  readonly field: string;
  readonly from: unknown;
  readonly to: unknown;
}

export interface NamedChange {
  readonly name: string;
  readonly change: 'added' | 'removed' | 'changed';
  readonly fields: readonly FieldChange[];
}

export interface ReloadPlan {
  readonly changes: readonly KeyChange[];
  readonly carriers: readonly NamedChange[];
  readonly routes: readonly NamedChange[];
  /** Changed keys a reload applies (carriers and routes count as one key each). */
  readonly applied: readonly string[];
  /** Changed keys a reload keeps as they are until a restart. */
  readonly restartNeeded: readonly string[];
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

function namedChanges<T extends { readonly name: string }>(from: readonly T[], to: readonly T[]): NamedChange[] {
  const before = new Map(from.map((x) => [x.name, x] as const));
  const after = new Map(to.map((x) => [x.name, x] as const));
  const out: NamedChange[] = [];
  for (const [name, old] of before) {
    const now = after.get(name);
    if (!now) {
      out.push({ name, change: 'removed', fields: [] });
      continue;
    }
    const fields: FieldChange[] = [];
    const o = old as unknown as Record<string, unknown>;
    const n = now as unknown as Record<string, unknown>;
    for (const field of new Set([...Object.keys(o), ...Object.keys(n)])) {
      if (!same(o[field], n[field])) fields.push({ field, from: o[field], to: n[field] });
    }
    if (fields.length > 0) out.push({ name, change: 'changed', fields });
  }
  for (const name of after.keys()) if (!before.has(name)) out.push({ name, change: 'added', fields: [] });
  return out;
}

/** What a reload from `running` to `next` changes, key by key, and which changes it can apply. */
export function planReload(running: ConfigView, next: ConfigView): ReloadPlan {
  const changes: KeyChange[] = [];
  for (const { key } of settingKeys()) {
    if (ROUTING_KEYS.has(key)) continue;
    const from = running.settings[key];
    const to = next.settings[key];
    if (same(from, to)) continue;
    const rule = ruleFor(key);
    changes.push({ key, from, to, secret: isSecret(key), live: rule.live, note: rule.note });
  }
  const carriers = namedChanges(running.carriers, next.carriers);
  const routes = namedChanges(running.routes, next.routes);
  const applied = changes.filter((c) => c.live).map((c) => c.key);
  if (carriers.length > 0) applied.push('carriers');
  if (routes.length > 0) applied.push('routes');
  return { changes, carriers, routes, applied, restartNeeded: changes.filter((c) => !c.live).map((c) => c.key) };
}

/** True when a reload would change nothing at all. */
export function unchanged(plan: ReloadPlan): boolean {
  return plan.changes.length === 0 && plan.carriers.length === 0 && plan.routes.length === 0;
}

/** The settings a reload runs with: `next` for every live key, the running value for every restart key. */
export function effectiveSettings(running: DaemonSettings, next: DaemonSettings): DaemonSettings {
  const out = structuredClone(next);
  for (const { key } of settingKeys()) {
    if (ruleFor(key).live) continue;
    const parts = key.split('.');
    const last = parts.pop() as string;
    let node = out as unknown as Record<string, unknown>;
    for (const p of parts) node = node[p] as Record<string, unknown>;
    node[last] = structuredClone(valueAt(running, key));
  }
  return out;
}

/**
 * The reload table as documentation (docs/configuration.md, Reload): live settings first, then those that need a
 * restart, one row per reason, keys in schema order. A test keeps the page equal to this.
 */
export function reloadTableMarkdown(): string {
  const groups = new Map<string, { live: boolean; note: string; keys: string[] }>();
  for (const { key } of settingKeys()) {
    const r = ruleFor(key);
    const id = `${r.live ? 0 : 1}${r.note}`;
    const g = groups.get(id) ?? { live: r.live, note: r.note, keys: [] };
    g.keys.push(key);
    groups.set(id, g);
  }
  const rows = [...groups.values()]
    .sort((x, y) => Number(x.live === false) - Number(y.live === false))
    .map((g) => `| ${g.live ? 'live' : 'restart'} | ${g.keys.map((k) => `\`${k}\``).join(', ')} | ${g.note} |`);
  return ['| on SIGHUP | settings | what changes, or why it waits for a restart |', '|---|---|---|', ...rows].join('\n');
}

/**
 * A secret read from a file (agi.sharedKeyFile, ami.secretFile) whose content changed while the setting did not:
 * a reload applies it, so the plan names it (as a secret: its value is never shown).
 */
export function withChangedFileSecrets(plan: ReloadPlan, keys: readonly string[]): ReloadPlan {
  const added: KeyChange[] = [];
  for (const key of keys) {
    if (plan.changes.some((c) => c.key === key)) continue;
    const rule = ruleFor(key);
    added.push({ key, from: '(file content)', to: '(file content)', secret: true, live: rule.live, note: `its file's content changed; ${rule.note}` });
  }
  if (added.length === 0) return plan;
  const live = added.filter((c) => c.live).map((c) => c.key);
  const later = added.filter((c) => !c.live).map((c) => c.key);
  return { ...plan, changes: [...plan.changes, ...added], applied: [...plan.applied, ...live], restartNeeded: [...plan.restartNeeded, ...later] };
}
