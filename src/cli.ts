#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from './config/load.js';
import { createLogger } from './log.js';
import { run } from './main.js';
import { migrate } from './store/migrate.js';
import { formatPlan, formatStatus } from './ops/cli-format.js';
import { formatExplain } from './ops/explain-format.js';
import { explainRows } from './store/explain-query.js';
import { checkConfig } from './ops/check-config.js';
import { COMMAND_HELP, wantsHelp } from './ops/cli-help.js';
import { resolveSharedKey } from './agi/auth.js';
import { FLAVORS, generateDialplan, type Flavor } from './ops/dialplan.js';
import { controlRequest, ControlError } from './ops/control-client.js';
import { parseDuration, type ControlRequest } from './ops/control-protocol.js';
import type { PlanPreview } from './ops/plan-preview.js';
import type { DaemonStatus } from './ops/status.js';

const HELP = `failover-agi: FastAGI daemon for outbound SIP-trunk failover in Asterisk

Usage: failover-agi <command> [options]

Commands:
  run [--config FILE]          run the daemon (default command); FILE also from FAILOVER_AGI_CONFIG
  check-config FILE [--diff | --against OLDFILE]
                               validate a config file; exit 0 when good, 1 with every problem listed;
                               --diff: what SIGHUP would change in the running daemon, each key live or
                               restart needed (--against: compared with another file, offline)
  migrate [--config FILE]      create or upgrade the attempt-log tables in db.database (idempotent)
  explain UNIQUEID | --lead ID every attempt of a call (or of a lead's calls) from the attempt log, with the
                               carrier's health, the outcome, the verdict and why
  dialplan [--config FILE] [--flavor plain|freepbx|vicidial] [--route NAME] [--context NAME]
                               print the Asterisk context for a route: the AGI call, the decision on its
                               verdict, and a static cascade of the route's carriers (dialplan --help)
  status [--json]              carriers of the running daemon: state, since, why, Dials and ASR over 15 min
  plan NUMBER [--route R] [--script S]
                               dry run: which carriers a call to NUMBER would try now, in order, and why others
                               are skipped; nothing is dialed
  drain CARRIER                take a carrier out of service (state disabled) until enable; survives restarts
  enable CARRIER               hand a drained or forced-down carrier back to its health checks
  force-down CARRIER [--for D] mark a carrier down (D like 10m, 90s, 1h; default until enable): a failover drill
  --version                    print the version
  --help                       this text; <command> --help prints that command's usage and does nothing else

Options for status/plan/drain/enable/force-down:
  --socket PATH                the daemon's control socket (default: control.socket from --config or
                               FAILOVER_AGI_CONFIG, else /run/failover-agi/control.sock); root or group failover-agi

Examples:
  failover-agi check-config /etc/failover-agi/config.json
  failover-agi check-config --diff /etc/failover-agi/config.json   # before systemctl reload
  failover-agi status
  failover-agi plan 915552345678
  failover-agi force-down primary --for 10m      # daylight failover drill, no iptables needed
  failover-agi enable primary
  FAILOVER_AGI_CONFIG=/etc/failover-agi/config.json failover-agi run
  failover-agi run --config ./config.json

Dialplan: failover-agi dialplan --config FILE --flavor vicidial prints the carrier Dialplan Entry for a route
`;

function version(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const p of [join(here, '..', '..', 'package.json'), join(here, '..', 'package.json')]) {
    try {
      return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
    } catch {
      /* try the next layout */
    }
  }
  return 'unknown';
}

function option(args: string[], name: string): string | null {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1] ?? null;
  const eq = args.find((a) => a.startsWith(`${name}=`));
  return eq ? eq.slice(name.length + 1) : null;
}

function socketPath(args: string[]): string {
  const explicit = option(args, '--socket') ?? process.env['FAILOVER_AGI_CONTROL_SOCKET'];
  if (explicit) return explicit;
  const file = option(args, '--config') ?? process.env['FAILOVER_AGI_CONFIG'];
  if (file) {
    try {
      return loadConfig({ file, env: {} }).settings.control.socket;
    } catch {
      /* an unreadable config still leaves the default */
    }
  }
  return '/run/failover-agi/control.sock';
}

async function control(args: string[], req: ControlRequest, print: (data: unknown) => string): Promise<number> {
  try {
    const res = await controlRequest(socketPath(args), req);
    if (!res.ok) {
      process.stderr.write(`failover-agi: ${res.error}\n`);
      return 1;
    }
    process.stdout.write(args.includes('--json') ? `${JSON.stringify(res.data, null, 2)}\n` : print(res.data));
    return 0;
  } catch (err) {
    process.stderr.write(`failover-agi: ${err instanceof ControlError ? err.message : String(err)}\n`);
    return 3;
  }
}

async function main(argv: string[]): Promise<number> {
  const [cmd = 'run', ...rest] = argv;
  const help = COMMAND_HELP[cmd];
  if (help !== undefined && wantsHelp(rest)) {
    process.stdout.write(help);
    return 0;
  }
  switch (cmd) {
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(HELP);
      return 0;
    case '--version':
    case '-v':
      process.stdout.write(`${version()}\n`);
      return 0;
    case 'check-config':
      return checkConfig(rest);
    case 'status':
      return control(rest, { cmd: 'status' }, (d) => formatStatus(d as DaemonStatus));
    case 'plan': {
      const number = rest.find((a, i) => !a.startsWith('--') && !['--route', '--script', '--socket', '--config'].includes(rest[i - 1] ?? ''));
      if (!number) {
        process.stderr.write('usage: failover-agi plan NUMBER [--route R]\n');
        return 2;
      }
      const route = option(rest, '--route');
      const script = option(rest, '--script');
      return control(rest, { cmd: 'plan', number, ...(route ? { route } : {}), ...(script ? { script } : {}) }, (d) => formatPlan(d as PlanPreview));
    }
    case 'drain':
    case 'enable':
    case 'force-down': {
      const carrier = rest[0];
      if (!carrier || carrier.startsWith('--')) {
        process.stderr.write(`usage: failover-agi ${cmd} CARRIER${cmd === 'force-down' ? ' [--for 10m]' : ''}\n`);
        return 2;
      }
      const me = userInfo();
      const by = { user: me.username, uid: me.uid, ...(process.env['SUDO_USER'] ? { sudoUser: process.env['SUDO_USER'] } : {}) };
      let req: ControlRequest;
      if (cmd === 'force-down') {
        const d = option(rest, '--for');
        const forMs = d === null ? null : parseDuration(d);
        if (d !== null && forMs === null) {
          process.stderr.write(`failover-agi: --for ${d}: use a duration like 90s, 10m or 1h\n`);
          return 2;
        }
        req = { cmd, carrier, forMs, by };
      } else req = { cmd, carrier, by };
      return control(rest, req, (d) => `${String(d)}\n`);
    }
    case 'migrate': {
      const file = option(rest, '--config') ?? process.env['FAILOVER_AGI_CONFIG'] ?? null;
      try {
        const { settings } = loadConfig({ file });
        if (!settings.db.host) {
          process.stderr.write('failover-agi: db.host is empty: set it in the config or FAILOVER_AGI_DB_HOST\n');
          return 2;
        }
        const log = createLogger({ level: 'info', pretty: true }, process.stderr);
        const r = await migrate(settings.db, log);
        process.stdout.write(
          r.from === r.to ? `${settings.db.database}: schema is current (version ${r.to})\n` : `${settings.db.database}: schema version ${r.from} → ${r.to}\n`,
        );
        return 0;
      } catch (err) {
        process.stderr.write(`failover-agi: migrate failed: ${(err as Error).message}\n`);
        return 1;
      }
    }
    case 'explain': {
      const lead = option(rest, '--lead');
      const uniqueid = rest.find((a, i) => !a.startsWith('--') && !['--lead', '--config'].includes(rest[i - 1] ?? ''));
      if ((lead === null) === (uniqueid === undefined) || (lead !== null && !/^\d{1,10}$/.test(lead)) || (uniqueid !== undefined && !/^[0-9.]{1,32}$/.test(uniqueid))) {
        process.stderr.write(COMMAND_HELP['explain'] ?? '');
        return 2;
      }
      const file = option(rest, '--config') ?? process.env['FAILOVER_AGI_CONFIG'] ?? null;
      try {
        const { settings } = loadConfig({ file });
        if (!settings.db.host) {
          process.stderr.write('failover-agi: db.host is empty: the attempt log is in the spool only (set db.host, or FAILOVER_AGI_DB_HOST)\n');
          return 1;
        }
        const rows = await explainRows(settings.db, lead !== null ? { leadId: Number(lead) } : { uniqueid: uniqueid as string });
        process.stdout.write(formatExplain(rows, lead !== null ? `lead ${lead}` : `uniqueid ${uniqueid}`));
        return 0;
      } catch (err) {
        process.stderr.write(`failover-agi: explain failed: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
        return 1;
      }
    }
    case 'dialplan': {
      const flavor = option(rest, '--flavor') ?? 'plain';
      if (!FLAVORS.includes(flavor as Flavor)) {
        process.stderr.write(`failover-agi: --flavor ${flavor}: use one of ${FLAVORS.join(', ')}\n\n${COMMAND_HELP['dialplan'] ?? ''}`);
        return 2;
      }
      const file = option(rest, '--config') ?? process.env['FAILOVER_AGI_CONFIG'] ?? null;
      try {
        const cfg = loadConfig({ file });
        const out = generateDialplan(cfg.routing, {
          flavor: flavor as Flavor,
          route: option(rest, '--route'),
          context: option(rest, '--context'),
          agiHost: cfg.settings.agi.host,
          agiPort: cfg.settings.agi.port,
          sharedKey: resolveSharedKey(cfg.settings.agi),
          source: file ?? '(built-in example)',
        });
        if (!out.ok) {
          process.stderr.write(`failover-agi: ${out.problem}\n`);
          return 1;
        }
        process.stdout.write(out.text);
        return 0;
      } catch (err) {
        process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`);
        return 1;
      }
    }
    case 'run':
      await run({ configFile: option(rest, '--config') ?? process.env['FAILOVER_AGI_CONFIG'] ?? null });
      return -1;
    default:
      process.stderr.write(`unknown command: ${cmd}\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`failover-agi: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
