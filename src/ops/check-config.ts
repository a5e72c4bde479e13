import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';
import { configView, planReload } from '../config/reload-plan.js';
import { settingKeys } from '../config/schema-keys.js';
import { COMMAND_HELP } from './cli-help.js';
import { formatReloadPlan } from './config-diff-format.js';
import { controlRequest, ControlError } from './control-client.js';
import { asReloadWouldRead, fingerprintSecrets, parseRunningConfig } from './running-config.js';

interface Out {
  out(s: string): void;
  err(s: string): void;
}

const std: Out = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

function load(file: string, io: Out): LoadedConfig | null {
  try {
    return loadConfig({ file, env: {}, requireRoutes: true });
  } catch (err) {
    io.err(`${err instanceof ConfigError ? err.message : String(err)}\n`);
    return null;
  }
}

function summary(file: string, cfg: LoadedConfig): string {
  const routes = [...cfg.routing.routes.values()].map((r) => `${r.name}=${r.strategy}[${r.carriers.join(',')}]`).join(' ');
  const groups = cfg.routing.prefixGroups.map((g) => `${g.name}[${g.prefixes.join(',')}]`).join(' ');
  return `${file}: OK (${cfg.routing.carriers.size} carriers, ${cfg.routing.routes.size} routes: ${routes}${groups ? `; prefix groups: ${groups}` : ''})\n`;
}

/**
 * `check-config FILE [--diff [--socket PATH] | --against OLDFILE]`: 0 when FILE is valid (changes or not), 1 when
 * FILE (or OLDFILE) is invalid, 2 on a usage error, 3 when --diff cannot reach the daemon.
 */
export async function checkConfig(args: readonly string[], io: Out = std): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { diff: { type: 'boolean' }, against: { type: 'string' }, socket: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    io.err(`${COMMAND_HELP['check-config'] ?? ''}\nfailover-agi: ${(err as Error).message.split('. ')[0] ?? ''}\n`);
    return 2;
  }
  const [file, ...extra] = parsed.positionals;
  if (!file || extra.length > 0) {
    io.err(COMMAND_HELP['check-config'] ?? '');
    return 2;
  }
  const cfg = load(file, io);
  if (!cfg) return 1;
  io.out(summary(file, cfg));

  const against = parsed.values.against;
  if (against !== undefined) {
    const old = load(against, io);
    if (!old) return 1;
    io.out(formatReloadPlan(planReload(configView(old), configView(cfg)), { against: against }));
    return 0;
  }
  if (!parsed.values.diff) return 0;

  // the daemon this FILE is for: --socket, else the environment's, else the socket FILE itself names
  const socket = parsed.values.socket ?? process.env['FAILOVER_AGI_CONTROL_SOCKET'] ?? cfg.settings.control.socket;
  const nonce = randomBytes(32).toString('hex');
  const mine = fingerprintSecrets(configView(cfg), nonce);
  let data: unknown;
  try {
    const res = await controlRequest(socket, { cmd: 'config', nonce, secrets: mine.secrets });
    if (!res.ok) throw new ControlError(`the daemon refused: ${res.error}`);
    data = res.data;
  } catch (err) {
    const why = err instanceof ControlError ? err.message : String(err);
    io.err(`failover-agi: cannot compare with the running daemon: ${why}\n  (to compare two files offline: check-config ${file} --against OLDFILE)\n`);
    return 3;
  }
  const running = parseRunningConfig(data);
  if (typeof running === 'string') {
    io.err(`failover-agi: cannot compare with the running daemon: ${running}\n`);
    return 3;
  }
  const next = asReloadWouldRead(mine.view, running);
  const envOf = new Map(settingKeys().map((k) => [k.key, k.env ?? ''] as const));
  const envWins = running.fromEnv
    .filter((key) => JSON.stringify(mine.view.settings[key]) !== JSON.stringify(running.view.settings[key]))
    .map((key) => ({ key, env: envOf.get(key) ?? '' }));
  const where = `the running daemon (control socket ${socket}${running.file ? `, started from ${running.file}` : ''})`;
  io.out(formatReloadPlan(planReload(running.view, next), { against: where, envWins }));
  return 0;
}
