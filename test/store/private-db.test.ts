import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const LAUNCHER = join(dirname(fileURLToPath(import.meta.url)), '..', 'support', 'with-database.js');
const privateDirs = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith('failover-agi-mariadb-'));

// what the tests would see: a server that answers at MYSQL_URL, with root allowed to create databases
const PROBE = `
import mysql from 'mysql2/promise';
const u = new URL(process.env.MYSQL_URL);
const c = await mysql.createConnection({ host: u.hostname, port: Number(u.port), user: u.username });
await c.query('CREATE DATABASE fa_probe');
await c.query('DROP DATABASE fa_probe');
await c.end();
process.stdout.write(u.port);
`;

test('with no database to use, npm test starts a private MariaDB, hands it over as MYSQL_URL and removes it', { skip: spawnSync('sh', ['-c', 'command -v mariadbd || test -x /usr/sbin/mariadbd']).status === 0 ? false : 'no mariadbd installed here' }, () => {
  const before = privateDirs();
  const r = spawnSync(process.execPath, [LAUNCHER, process.execPath, '--input-type=module', '-e', PROBE], {
    encoding: 'utf8',
    cwd: join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'),
    env: { PATH: process.env['PATH'], FAILOVER_AGI_TEST_PRIVATE_DB: '1' },
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /using a private one at mysql:\/\/root@127\.0\.0\.1:\d+ \(removed afterwards\)/);
  assert.notEqual(r.stdout, '3306');
  assert.deepEqual(privateDirs(), before, 'the private server and its files are gone');
});

test('a MYSQL_URL that does not answer stops the run at once with one line', () => {
  const r = spawnSync(process.execPath, [LAUNCHER, process.execPath, '-e', 'process.exit(0)'], { encoding: 'utf8', env: { PATH: process.env['PATH'], MYSQL_URL: 'mysql://root@127.0.0.1:1' }, timeout: 20_000 });
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /MYSQL_URL is set but nothing answers there/);
});
