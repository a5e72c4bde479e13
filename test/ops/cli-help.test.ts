import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { COMMAND_HELP } from '../../src/ops/cli-help.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli.js');

/**
 * `<command> --help` must print usage and act on nothing: `migrate --help` once ran a migration, `run --help` started
 * a daemon, `check-config --help` opened a file named --help. Each runs here in an empty directory, with a database
 * and a control socket that would fail loudly if touched.
 */
describe('per-command --help never acts', () => {
  for (const cmd of Object.keys(COMMAND_HELP)) {
    for (const flag of ['--help', '-h']) {
      test(`${cmd} ${flag}`, () => {
        const cwd = mkdtempSync(join(tmpdir(), 'fa-help-'));
        const args = cmd === 'plan' ? [cmd, '15552345678', flag] : cmd === 'drain' ? [cmd, 'primary', flag] : [cmd, flag];
        const r = spawnSync(process.execPath, [CLI, ...args], {
          cwd,
          encoding: 'utf8',
          timeout: 5000,
          env: {
            PATH: process.env['PATH'],
            FAILOVER_AGI_DB_HOST: '127.0.0.1',
            FAILOVER_AGI_DB_PORT: '1',
            FAILOVER_AGI_CONTROL_SOCKET: join(cwd, 'no-daemon.sock'),
            FAILOVER_AGI_AGI_PORT: '0',
          },
        });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr, '');
        assert.ok(r.stdout.startsWith(`Usage: failover-agi ${cmd}`), r.stdout);
        assert.deepEqual(readdirSync(cwd), [], 'no file was created');
      });
    }
  }

  test('check-config with an option where the file belongs is a usage error, not a file name', () => {
    const r = spawnSync(process.execPath, [CLI, 'check-config', '--verbose'], { encoding: 'utf8', env: { PATH: process.env['PATH'] } });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^Usage: failover-agi check-config FILE/);
  });

  test('the main usage says how to get a command\'s usage', () => {
    const r = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8', env: { PATH: process.env['PATH'] } });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /<command> --help prints that command's usage and does nothing else/);
  });
});
