import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../support/free-port.js';
import { flowCarriers, NUMBER } from '../driver/closed-loop.js';
import { timedCall } from '../driver/timed-call.js';

// the .pl is not compiled: from dist/test/bench/peers it is found back in the source tree
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'test', 'bench', 'peers', 'failover-agi.pl');
export const PEER_INSTALL = 'apt-get install -y perl libnet-server-perl libasterisk-agi-perl';

/** Why the Perl peer cannot run here, or null when perl and both modules load. */
export function peerMissing(): string | null {
  const r = spawnSync('perl', ['-MNet::Server::PreFork', '-MAsterisk::AGI', '-e', '1'], { encoding: 'utf8' });
  if (r.error) return `perl not runnable (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`;
  if (r.status !== 0) return (r.stderr.split('\n')[0] ?? 'perl modules missing').replace(/ \(you may need.*$/, '').slice(0, 160);
  return null;
}

export interface PerlPeer {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startPerlPeer(): Promise<PerlPeer> {
  const port = await freePort();
  // its own process group, so stopping it ends the preforked children too and nothing else
  const child: ChildProcess = spawn('perl', [SCRIPT, String(port)], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => (stderr = (stderr + c).slice(-2000)));
  let exited = false;
  const gone = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  const pid = child.pid ?? 0;
  const stop = async (): Promise<void> => {
    if (exited) return;
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* the group has exited */
    }
  };
  // ready when a whole call goes through, which also checks the script does the flow
  const until = Date.now() + 10_000;
  for (;;) {
    if (exited) throw new Error(`perl peer exited: ${stderr.trim().slice(-300)}`);
    const r = await timedCall({ port, number: NUMBER, uniqueid: 'peer.ready', carriers: flowCarriers('A') });
    if (r.ok && r.dials === 2 && r.vars.get('FAILOVER_STATUS') === 'ANSWER') return { name: 'perl-peer', port, pid, stop };
    if (Date.now() > until) {
      await stop();
      throw new Error(`perl peer not answering a call on port ${port}: ${r.error ?? `${r.dials} Dials`}; ${stderr.trim().slice(-300)}`);
    }
    await new Promise((r2) => setTimeout(r2, 100));
  }
}
