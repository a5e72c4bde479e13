import { logSink } from './calls/log-sink.js';
import { ConfigError, loadConfig, type LoadedConfig } from './config/load.js';
import { startDaemon } from './daemon.js';
import { unknownHealth } from './health/unknown-health.js';
import { createLogger, type Logger } from './log.js';

export interface RunOptions {
  readonly configFile: string | null;
}

/** `failover-agi run`: the long-running service. Signals: SIGTERM/SIGINT drain and exit 0, SIGHUP reloads carriers and routes. */
export async function run(opts: RunOptions): Promise<void> {
  let cfg: LoadedConfig;
  try {
    cfg = loadConfig({ file: opts.configFile });
  } catch (err) {
    process.stderr.write(`failover-agi: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const log = createLogger({ level: cfg.settings.log.level, pretty: cfg.settings.log.pretty });
  log.info({ config: cfg.file ?? '(built-in defaults)', serverId: cfg.settings.serverId }, 'failover-agi starting');
  const routing = cfg.routing;
  const daemon = await startDaemon({
    settings: cfg.settings,
    routing,
    log,
    sink: logSink(log),
    health: unknownHealth(() => daemon.routing().carriers.values()),
  });
  installProcessHandlers(log);
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, graceMs: cfg.settings.shutdown.grace, activeCalls: daemon.server.activeCalls }, 'stopping: no new calls, draining');
    const left = await daemon.stop(cfg.settings.shutdown.grace);
    log.info({ callsLeftToAsterisk: left }, 'stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => {
    try {
      const next = loadConfig({ file: opts.configFile });
      daemon.setRouting(next.routing);
      log.info({ carriers: [...next.routing.carriers.keys()], routes: [...next.routing.routes.keys()] }, 'reloaded carriers and routes (calls in progress keep theirs)');
    } catch (err) {
      log.error({ problems: err instanceof ConfigError ? err.problems : [(err as Error).message] }, 'reload refused: the running configuration stays');
    }
  });
}

/** A bug in one call must not take down every call: log it with context; exit only when state may be unsafe. */
function installProcessHandlers(log: Logger): void {
  process.on('unhandledRejection', (reason) => {
    log.error({ err: reason instanceof Error ? reason : new Error(String(reason)) }, 'unhandled rejection (kept running)');
  });
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception: state may be unsafe, exiting so systemd restarts the daemon');
    process.exit(70);
  });
}
