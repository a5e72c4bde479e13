#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from './config/load.js';
import { run } from './main.js';

const HELP = `failover-agi: FastAGI daemon for outbound SIP-trunk failover in Asterisk

Usage: failover-agi <command> [options]

Commands:
  run [--config FILE]          run the daemon (default command); FILE also from FAILOVER_AGI_CONFIG
  check-config FILE            validate a config file; exit 0 when good, 1 with every problem listed
  --version                    print the version
  --help                       this text

Examples:
  failover-agi check-config /etc/failover-agi/config.json
  FAILOVER_AGI_CONFIG=/etc/failover-agi/config.json failover-agi run
  failover-agi run --config ./config.json

Dialplan: exten => _91NXXNXXXXXX,n,AGI(agi://127.0.0.1:4573/outbound-failover,\${EXTEN},\${CAMPCUST})
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

async function main(argv: string[]): Promise<number> {
  const [cmd = 'run', ...rest] = argv;
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
    case 'check-config': {
      const file = rest[0];
      if (!file) {
        process.stderr.write('usage: failover-agi check-config FILE\n');
        return 2;
      }
      try {
        const cfg = loadConfig({ file, env: {} });
        process.stdout.write(
          `${file}: OK (${cfg.routing.carriers.size} carriers, ${cfg.routing.routes.size} routes: ${[...cfg.routing.routes.values()].map((r) => `${r.name}=${r.strategy}[${r.carriers.join(',')}]`).join(' ')})\n`,
        );
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
