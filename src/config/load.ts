import convict from 'convict';
import { readFileSync } from 'node:fs';
import { parseRouting, type ValidatedRouting } from './carriers.js';
import { daemonSchema, type DaemonSettings } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    readonly problems: readonly string[],
  ) {
    super(`${message}:\n  - ${problems.join('\n  - ')}`);
  }
}

export interface LoadedConfig {
  readonly settings: DaemonSettings;
  readonly routing: ValidatedRouting;
  readonly file: string | null;
}

export interface LoadOptions {
  /** JSON config file; null = built-in defaults only. */
  readonly file: string | null;
  /** Environment to read FAILOVER_AGI_* from (tests pass {}). */
  readonly env?: NodeJS.ProcessEnv;
  /** Values that win over file and env (the demo sets its ports here). */
  readonly overrides?: Record<string, unknown>;
  /** `run` and `check-config`: a config without a route is refused (every call would get NOROUTE). */
  readonly requireRoutes?: boolean;
}

/** defaults < file < env < overrides; then strict validation of every key, then carriers and routes. */
export function loadConfig(opts: LoadOptions): LoadedConfig {
  const conf = convict<DaemonSettings>(daemonSchema as unknown as convict.Schema<DaemonSettings>, {
    env: opts.env ?? process.env,
    args: [],
  });
  if (opts.file) {
    let text: string;
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read config file ${opts.file}`, [(err as Error).message]);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(`config file ${opts.file} is not valid JSON`, [(err as Error).message]);
    }
    try {
      // convict re-applies the environment after load(), so env still wins over the file
      conf.load(parsed as Partial<DaemonSettings>);
    } catch (err) {
      throw new ConfigError(`config file ${opts.file} has bad values`, String((err as Error).message).split('\n'));
    }
  }
  const problems: string[] = [];
  if (opts.overrides) {
    for (const [k, v] of Object.entries(opts.overrides)) {
      try {
        conf.set(k, v as never);
      } catch (err) {
        problems.push(`${k}: ${(err as Error).message}`);
      }
    }
  }
  // every problem at once: a bad daemon setting must not hide the carrier and route problems behind it
  try {
    conf.validate({ allowed: 'strict' });
  } catch (err) {
    problems.push(...String((err as Error).message).split('\n').filter((l) => l.trim() !== ''));
  }
  const settings = conf.getProperties();
  if (settings.agi.port === 4577) problems.push('agi.port = 4577: that port belongs to VICIdial\'s FastAGI_log; use 4573');
  if (Array.isArray(settings.agi.allowedPeers) && settings.agi.allowedPeers.length === 0) problems.push('agi.allowedPeers = []: no Asterisk could connect');
  if (settings.cluster.enabled && settings.db.host === '') problems.push('cluster.enabled needs db.host: the dialers share health through the cluster\'s database');
  if (settings.cluster.staleAfter < settings.cluster.pollMs) problems.push(`cluster.staleAfter (${settings.cluster.staleAfter}) is shorter than cluster.pollMs (${settings.cluster.pollMs}): the view would count as lost between two reads`);
  const routing = parseRouting(settings.carriers, settings.routes, settings.prefixGroups);
  if (!routing.ok) problems.push(...routing.problems);
  else if (opts.requireRoutes && routing.routing.routes.size === 0) problems.push('routes = []: no route, so every call would get FAILOVER_STATUS=NOROUTE (see docs/configuration.md)');
  if (problems.length > 0 || !routing.ok) {
    throw new ConfigError(`invalid configuration${opts.file ? ` in ${opts.file}` : ''}`, problems);
  }
  return { settings, routing: routing.routing, file: opts.file };
}
