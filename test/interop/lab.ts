import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/free-port.js';
import { LabAmi } from './ami.js';

/**
 * A real Asterisk (chan_sip) with SIPp carriers, all on 127.0.0.1, for the interop tests.
 * Nothing here builds Asterisk: the tests use a lab someone built (../shared/asterisk/LAB.md) and name it by
 * environment variables; without them every interop test is skipped.
 */

export const LAB_ENV = {
  asterisk: 'FAILOVER_AGI_LAB_ASTERISK',
  modules: 'FAILOVER_AGI_LAB_MODULES',
  sipp: 'FAILOVER_AGI_LAB_SIPP',
  keep: 'FAILOVER_AGI_LAB_KEEP',
  /** Comma-separated modules to leave out (`func_logic.so`: an Asterisk without SET()). */
  noload: 'FAILOVER_AGI_LAB_NOLOAD',
  /** A tcpdump binary: the timing case also captures its AGI port and prints the figures on the wire (packet-timing.ts). */
  tcpdump: 'FAILOVER_AGI_LAB_TCPDUMP',
} as const;

export interface LabPaths {
  readonly asterisk: string;
  readonly modules: string;
  readonly sipp: string;
}

export const SKIP_LINE =
  `no Asterisk lab: set ${LAB_ENV.asterisk}=<prefix>/sbin/asterisk (Asterisk 20 with chan_sip, see ../shared/asterisk/LAB.md), ` +
  `optionally ${LAB_ENV.modules}=<module dir> (default <prefix>/lib/asterisk/modules) and ${LAB_ENV.sipp}=<sipp binary> (default sipp on PATH)`;

/** The lab named by the environment, or null when none is configured or it is incomplete (the reason goes in the skip line). */
export function labFromEnv(env: NodeJS.ProcessEnv = process.env): { paths: LabPaths } | { skip: string } {
  const asterisk = env[LAB_ENV.asterisk];
  if (!asterisk) return { skip: SKIP_LINE };
  if (!existsSync(asterisk)) return { skip: `${LAB_ENV.asterisk}=${asterisk}: no such file` };
  const modules = env[LAB_ENV.modules] ?? resolve(dirname(asterisk), '..', 'lib', 'asterisk', 'modules');
  if (!existsSync(join(modules, 'chan_sip.so'))) return { skip: `no chan_sip.so in ${modules}: set ${LAB_ENV.modules}` };
  return { paths: { asterisk, modules, sipp: env[LAB_ENV.sipp] ?? 'sipp' } };
}

export const SCENARIOS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'interop', 'scenarios');

/** A UDP port nobody holds right now (SIP and RTP ports of the lab). */
export function freeUdpPort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createSocket('udp4');
    s.once('error', rej);
    s.bind(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
}

export interface LabCarrier {
  /** chan_sip peer name: `carrier-<scenario>`. */
  readonly peer: string;
  readonly scenario: string;
  readonly port: number;
  readonly mediaPort: number;
}

export interface AsteriskFiles {
  readonly dir: string;
  readonly sipPort: number;
  readonly amiPort: number;
  readonly carriers: readonly LabCarrier[];
  /** extensions.conf body after [general]: the generated contexts with our h extensions. */
  readonly dialplan: string;
}

export const AMI_USER = 'interop';
export const AMI_SECRET = 'interop-secret';

function noloads(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env[LAB_ENV.noload] ?? '').split(',').map((m) => m.trim()).filter((m) => /^[a-z0-9_]+\.so$/.test(m));
}

/** Writes a scratch etc/ (and the directories asterisk.conf points at) for one lab run. */
export function writeAsteriskEtc(paths: LabPaths, f: AsteriskFiles): string {
  const etc = join(f.dir, 'etc');
  for (const d of ['etc', 'var/lib', 'var/spool', 'var/run', 'var/log', 'agi-bin']) mkdirSync(join(f.dir, d), { recursive: true });
  const at = (d: string) => join(f.dir, d);
  writeFileSync(
    join(etc, 'asterisk.conf'),
    [
      '[directories]',
      `astetcdir => ${etc}`,
      `astmoddir => ${paths.modules}`,
      `astvarlibdir => ${at('var/lib')}`,
      `astdbdir => ${at('var/lib')}`,
      `astkeydir => ${at('var/lib')}`,
      `astdatadir => ${at('var/lib')}`,
      `astagidir => ${at('agi-bin')}`,
      `astspooldir => ${at('var/spool')}`,
      `astrundir => ${at('var/run')}`,
      `astlogdir => ${at('var/log')}`,
      `astsbindir => ${dirname(paths.asterisk)}`,
      '[options]',
      'verbose = 3',
      'debug = 0',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(etc, 'modules.conf'),
    ['[modules]', 'autoload = yes', 'noload = chan_pjsip.so', 'noload = res_pjsip.so', 'noload = chan_dahdi.so', 'noload = chan_iax2.so', ...noloads().map((m) => `noload = ${m}`), ''].join('\n'),
  );
  // microseconds in every line (%6q, main/stdtime/localtime.c): the timing figures (header → first Dial, per-command round trips) come from this log
  writeFileSync(join(etc, 'logger.conf'), ['[general]', 'dateformat = %F %T.%6q', '[logfiles]', 'full => notice,warning,error,verbose', ''].join('\n'));
  writeFileSync(join(etc, 'rtp.conf'), ['[general]', 'rtpstart = 31000', 'rtpend = 31999', ''].join('\n'));
  writeFileSync(
    join(etc, 'manager.conf'),
    [
      '[general]',
      'enabled = yes',
      // a Timestamp header on every event (main/manager.c): Dial lengths as Asterisk timed them (DialBegin → DialEnd)
      'timestampevents = yes',
      `port = ${f.amiPort}`,
      'bindaddr = 127.0.0.1',
      `[${AMI_USER}]`,
      `secret = ${AMI_SECRET}`,
      'deny = 0.0.0.0/0.0.0.0',
      'permit = 127.0.0.1/255.255.255.255',
      'read = all',
      'write = all',
      '',
    ].join('\n'),
  );
  const peers = f.carriers.flatMap((c) => [
    `[${c.peer}]`,
    'type = peer',
    'host = 127.0.0.1',
    `port = ${c.port}`,
    // qualify as the captures' lab had it: a carrier that stops answering OPTIONS becomes UNREACHABLE and chan_sip refuses it
    'qualify = yes',
    'qualifyfreq = 5',
    'insecure = invite',
    'context = interop-inbound',
    'disallow = all',
    'allow = ulaw,alaw',
    '',
  ]);
  writeFileSync(
    join(etc, 'sip.conf'),
    ['[general]', `udpbindaddr = 127.0.0.1:${f.sipPort}`, 'allowguest = no', 'context = interop-inbound', 'disallow = all', 'allow = ulaw,alaw', '', ...peers].join('\n'),
  );
  writeFileSync(
    join(etc, 'extensions.conf'),
    ['[general]', 'static = yes', 'writeprotect = yes', '', '[interop-inbound]', 'exten => _X.,1,Hangup(21)', '', f.dialplan].join('\n'),
  );
  return join(etc, 'asterisk.conf');
}

/** The dialplan lines we add to a generated context: one UserEvent from `h` with what the channel ended with. */
export function endEvent(): string {
  return (
    'exten => h,1,UserEvent(InteropEnd,FailoverStatus: ${FAILOVER_STATUS},FailoverCause: ${FAILOVER_CAUSE},' +
    'FailoverCarrier: ${FAILOVER_CARRIER},FailoverAttempts: ${FAILOVER_ATTEMPTS},DialStatus: ${DIALSTATUS},' +
    'HangupCause: ${HANGUPCAUSE},AgiStatus: ${AGISTATUS})\n'
  );
}

export interface Proc {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

function run(cmd: string, args: string[], cwd: string): Proc {
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (c: Buffer) => {
    out = (out + c.toString()).slice(-20000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // a missing binary arrives as 'error' (no 'exit'): keep it in the output rather than crash the test process
  child.on('error', (err) => keep(Buffer.from(`\n${cmd}: ${err.message}\n`)));
  const exited = new Promise<number | null>((r) => {
    child.once('exit', (code) => r(code));
    child.once('error', () => r(null));
  });
  return {
    child,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // by our own child's pid, nothing broader
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** One SIPp UAS playing one carrier scenario on its own port (and its own RTP port: SIPp binds one per instance). */
export function startCarrier(paths: LabPaths, c: LabCarrier, dir: string): Proc {
  const scenario = join(SCENARIOS, `${c.scenario}.xml`);
  if (!existsSync(scenario)) throw new Error(`no SIPp scenario ${scenario}`);
  return run(paths.sipp, ['-sf', scenario, '-i', '127.0.0.1', '-p', String(c.port), '-mp', String(c.mediaPort), '-nostdin', '-trace_err', '-error_file', join(dir, `${c.peer}.err`)], dir);
}

/**
 * tcpdump on loopback for one TCP port, into `file` (classic pcap, each packet written at once: -U). Resolves once it
 * listens, so no segment of the first call is missed; stop() ends it (SIGTERM) and its file is complete then.
 */
export async function startCapture(tcpdump: string, port: number, file: string, dir: string): Promise<Proc> {
  const p = run(tcpdump, ['-i', 'lo', '--immediate-mode', '-B', '32768', '-U', '-s', '0', '-w', file, 'tcp', 'port', String(port)], dir);
  const until = Date.now() + 10000;
  while (!/listening on/.test(p.output())) {
    if (p.child.exitCode !== null || Date.now() > until) throw new Error(`tcpdump did not start: ${p.output().trim().slice(-300)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  // "listening on" is printed before the kernel filter is live: seen here, the first connections of a run went missing
  await new Promise((r) => setTimeout(r, 500));
  return {
    ...p,
    async stop() {
      // the last segments are still on their way out of the kernel's capture buffer (without --immediate-mode, a whole
      // block of them waits up to a second for its timeout and is lost with the process: seen here as calls missing; and
      // with the default 2 MiB buffer a loaded box dropped hundreds of packets, hence -B)
      await new Promise((r) => setTimeout(r, 500));
      await p.stop();
    },
  };
}

/** Asterisk in the foreground (-f: we hold its pid), with its own config only (-C). */
export function startAsterisk(paths: LabPaths, conf: string, dir: string): Proc {
  return run(paths.asterisk, ['-f', '-n', '-C', conf], dir);
}

/** Waits for AMI to accept our login (Asterisk is up and manager.conf loaded). */
export async function openAmi(port: number, asterisk: Proc, ms = 20000): Promise<LabAmi> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    if (asterisk.child.exitCode !== null) throw new Error(`asterisk exited with ${asterisk.child.exitCode}: ${asterisk.output().slice(-2000)}`);
    try {
      return await LabAmi.open(port, AMI_USER, AMI_SECRET);
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`AMI did not come up in ${ms} ms: ${String(last)}; asterisk said: ${asterisk.output().slice(-2000)}`);
}

/** Waits until `sip show peers` lists every carrier as OK (qualified): before that chan_sip may refuse a Dial. */
export async function waitPeersOk(ami: LabAmi, peers: readonly string[], ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  let out = '';
  while (Date.now() < end) {
    out = await ami.command('sip show peers');
    const ok = peers.every((p) => new RegExp(`^${p}\\s.*\\bOK \\(`, 'm').test(out));
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`carriers not all qualified OK within ${ms} ms:\n${out}`);
}

export function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), 'fa-interop-'));
}

export function readLog(dir: string): string {
  const p = join(dir, 'var', 'log', 'full');
  return existsSync(p) ? readFileSync(p, 'utf8') : '';
}
