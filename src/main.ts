import { ConfigError, loadConfig, type LoadedConfig } from './config/load.js';
import { createLogger, type Logger } from './log.js';
import { startService, type ServiceOptions } from './service.js';
import { createRecordStore } from './store/record-store.js';

export interface RunOptions {
  readonly configFile: string | null;
  readonly attemptLog?: ServiceOptions['attemptLog'];
}

/** `failover-agi run`: the long-running service. SIGTERM/SIGINT drain and exit 0; SIGHUP reloads every setting that can change live. */
export async function run(opts: RunOptions): Promise<void> {
  let cfg: LoadedConfig;
  try {
    cfg = loadConfig({ file: opts.configFile, requireRoutes: true });
  } catch (err) {
    process.stderr.write(`failover-agi: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const log = createLogger({ level: cfg.settings.log.level, pretty: cfg.settings.log.pretty });
  installProcessHandlers(log);
  log.info({ config: cfg.file ?? '(built-in defaults)', serverId: cfg.settings.serverId }, 'failover-agi starting');
  let service;
  try {
    service = await startService({
      config: cfg,
      configFile: opts.configFile,
      log,
      attemptLog:
        opts.attemptLog ??
        ((c, l) => createRecordStore({ db: c.settings.db, store: c.settings.store, serverId: c.settings.serverId, log: l })),
    });
  } catch (err) {
    const problems = err instanceof ConfigError ? err.problems : [(err as Error).message];
    log.fatal({ problems }, 'cannot start');
    process.stderr.write(`failover-agi: cannot start: ${problems.join('; ')}\n`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  }
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'signal received');
    await service.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => {
    service.reload().catch((err: unknown) => log.error({ err }, 'reload failed part way: restart the daemon to be sure what it runs'));
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
