/**
 * Usage of each CLI command. `failover-agi <command> --help` prints one of these and does nothing else: no config is
 * read, no file opened, no database or socket touched.
 */
export const COMMAND_HELP: Readonly<Record<string, string>> = {
  run: `Usage: failover-agi run [--config FILE]

Runs the daemon in the foreground (systemd's ExecStart). FILE, else FAILOVER_AGI_CONFIG, else the built-in
defaults. Stops on SIGTERM (drain, then flush the attempt log). On SIGHUP it reads FILE again and applies every
setting that can change live (carriers, routes, log.level, health.*, AGI limits, AMI, ...; calls in progress keep
theirs); the log line "reloaded" names what was applied and what needs a restart (check-config --diff shows it
beforehand). An invalid FILE is refused and everything keeps running as it was.
`,
  'check-config': `Usage: failover-agi check-config FILE [--diff [--socket PATH] | --against OLDFILE]

Validates FILE as the daemon would read it: exit 0 with a one-line summary when it is good, 1 with every
problem listed (key path, value, why), 2 when no FILE is given.

  --diff            also compare FILE with the running daemon's config (over its control socket: --socket, else
                    FAILOVER_AGI_CONTROL_SOCKET, else FILE's control.socket): each changed key with old → new
                    (a secret only as "(changed)"), and whether SIGHUP applies it (live) or it needs a restart;
                    carriers and routes added, removed or changed. Exit 3 when no daemon answers.
  --against OLDFILE compare FILE with OLDFILE instead, offline (CI, review); exit 1 when OLDFILE is invalid.

Example:
  failover-agi check-config --diff /etc/failover-agi/config.json && systemctl reload failover-agi
`,
  migrate: `Usage: failover-agi migrate [--config FILE]

Creates or upgrades the attempt-log tables in db.database (FILE, else FAILOVER_AGI_CONFIG; the password from
db.password or FAILOVER_AGI_DB_PASSWORD, e.g. in /etc/default/failover-agi). Idempotent; refuses a schema newer than this version knows.
Exit 0 when the schema is current, 1 when migrating failed, 2 when db.host is empty.
`,
  dialplan: `Usage: failover-agi dialplan [--config FILE] [--flavor plain|freepbx|vicidial] [--route NAME] [--context NAME]

Prints a ready-to-include Asterisk context for one route of the config (FILE, else FAILOVER_AGI_CONFIG, else the
built-in example): AGI() to the daemon, then the decision on FAILOVER_STATUS, then a static cascade of the route's
carriers in order for when no Dial was placed (daemon down, closed at once, or NOROUTE).

  --config FILE     the daemon's config; a broken one is refused with the same errors as check-config (exit 1)
  --flavor F        plain (default): an [<route>] context for extensions.conf
                    freepbx: [failover-agi-trunk] for extensions_custom.conf, behind a custom trunk
                    vicidial: a carrier Dialplan Entry (_91NXXNXXXXXX, call_log on 4577 first)
  --route NAME      the route (default: the first one in the config)
  --context NAME    the context name (default: the route's name; failover-agi-trunk for freepbx; none for vicidial)

Example:
  failover-agi dialplan --config /etc/failover-agi/config.json --flavor vicidial --route outbound-failover
`,
  explain: `Usage: failover-agi explain UNIQUEID [--config FILE]
       failover-agi explain --lead ID [--config FILE]

Why did this call go where it went: every attempt of the call with Asterisk uniqueid UNIQUEID (or of every call of
VICIdial lead ID), in order, from the attempt log in db.* of the config: the carrier, the health it had when it was
chosen or skipped, the Dial string, DIALSTATUS, cause and SIP response, the verdict and why. Exit 1 when the
database cannot be read, 2 on a usage error.
`,
  status: `Usage: failover-agi status [--json] [--socket PATH | --config FILE]

Asks the running daemon over its control socket: every carrier's state, since when and why, Dials, ASR and
post-dial delay (p50 / p95 of the Dials that rang) over 15 minutes, channels in use and cps against its caps, AMI
and database state. Exit 3 when the daemon cannot be reached.
`,
  plan: `Usage: failover-agi plan NUMBER [--script S | --route R] [--json] [--socket PATH | --config FILE]

Dry run in the running daemon: what the next call to NUMBER would do, and nothing is dialed. The route is chosen
as a call chooses it, by AGI script S (default: the first route's script) and the number, or named with --route.
Shows each Dial as it would be sent (channels, ring^progress timers, options), in order, with where its progress
timeout comes from (configured, or learned from the carrier's post-dial delays: adaptiveProgress); round robin's
next start; for weighted, every order a call can get with its share of calls; and why other carriers are skipped. Names the
prefix group (prefixGroups) the number falls in, and plans with that group's health.
`,
  drain: `Usage: failover-agi drain CARRIER [--socket PATH | --config FILE]

Takes CARRIER out of service (state disabled) until \`enable\`; survives restarts.
`,
  enable: `Usage: failover-agi enable CARRIER [--socket PATH | --config FILE]

Hands a drained or forced-down CARRIER back to its health checks.
`,
  'force-down': `Usage: failover-agi force-down CARRIER [--for D] [--socket PATH | --config FILE]

Marks CARRIER down (D like 90s, 10m, 1h; default until \`enable\`): a failover drill without touching the network.
`,
};

/** `--help` or `-h` anywhere among a command's arguments asks for its usage. */
export function wantsHelp(args: readonly string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}
