import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { mysqlAdminConfig } from './db.js';

/**
 * `npm test` runs under this: when no MariaDB answers (MYSQL_URL, else root on 127.0.0.1:3306), it starts a private
 * one from the installed mariadbd in a temporary directory on a free port, hands it to the tests as MYSQL_URL and
 * removes it afterwards; where no mariadbd is installed it stops at once with one line saying what to install.
 * Usage: node with-database.js <command> [args…]
 */

async function answers(): Promise<boolean> {
  const a = mysqlAdminConfig();
  try {
    const c = await mysql.createConnection({ host: a.host, port: a.port, user: a.user, password: a.password, connectTimeout: 2000 });
    await c.end();
    return true;
  } catch {
    return false;
  }
}

function find(names: readonly string[]): string | null {
  for (const n of names) {
    for (const dir of [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/usr/libexec', '/usr/local/sbin']) {
      const p = join(dir, n);
      if (dir && existsSync(p)) return p;
    }
  }
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function privateServer(): Promise<{ url: string; stop: () => void }> {
  const mariadbd = find(['mariadbd', 'mysqld']);
  const install = find(['mariadb-install-db', 'mysql_install_db']);
  if (!mariadbd || !install) {
    process.stderr.write('npm test: no MariaDB answers at 127.0.0.1:3306 (and MYSQL_URL is not set), and no mariadbd is installed to start one: apt-get install mariadb-server, or set MYSQL_URL=mysql://user:pass@host:port\n');
    process.exit(1);
  }
  const dir = mkdtempSync(join(tmpdir(), 'failover-agi-mariadb-'));
  const user = userInfo().username;
  const init = spawnSync(install, ['--no-defaults', `--datadir=${join(dir, 'data')}`, `--user=${user}`, '--auth-root-authentication-method=normal', '--skip-test-db'], { encoding: 'utf8' });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    process.stderr.write(`npm test: could not initialise a private MariaDB in ${dir}: ${init.stderr.split('\n').slice(-3).join(' ')}\n`);
    process.exit(1);
  }
  const port = await freePort();
  const server: ChildProcess = spawn(
    mariadbd,
    ['--no-defaults', `--datadir=${join(dir, 'data')}`, `--socket=${join(dir, 'mysqld.sock')}`, `--pid-file=${join(dir, 'mysqld.pid')}`, `--port=${port}`, '--bind-address=127.0.0.1', `--user=${user}`, '--skip-log-bin'],
    { stdio: 'ignore' },
  );
  const stop = (): void => {
    server.kill('SIGTERM');
    spawnSync('sleep', ['1']);
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `mysql://root@127.0.0.1:${port}`;
  process.env['MYSQL_URL'] = url;
  for (let i = 0; i < 60; i++) {
    if (await answers()) return { url, stop };
    await new Promise((r) => setTimeout(r, 500));
  }
  stop();
  process.stderr.write('npm test: the private MariaDB did not answer within 30 s\n');
  process.exit(1);
}

const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  process.stderr.write('usage: with-database.js <command> [args…]\n');
  process.exit(2);
}
let stop: (() => void) | null = null;
// FAILOVER_AGI_TEST_PRIVATE_DB=1 takes the private server even when one answers (to try this path on a dev box)
const forcePrivate = process.env['FAILOVER_AGI_TEST_PRIVATE_DB'] === '1';
if (process.env['MYSQL_URL'] && !forcePrivate) {
  if (!(await answers())) {
    process.stderr.write(`npm test: MYSQL_URL is set but nothing answers there; unset it to let the tests start a private MariaDB\n`);
    process.exit(1);
  }
} else if (forcePrivate || !(await answers())) {
  delete process.env['MYSQL_URL'];
  const s = await privateServer();
  stop = s.stop;
  process.stderr.write(`npm test: no MariaDB answered at 127.0.0.1:3306; using a private one at ${s.url} (removed afterwards)\n`);
}
const child = spawn(cmd, args, { stdio: 'inherit', env: process.env });
const forward = (sig: NodeJS.Signals): void => {
  child.kill(sig);
};
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
child.on('exit', (code, signal) => {
  stop?.();
  process.exit(code ?? (signal ? 1 : 0));
});
