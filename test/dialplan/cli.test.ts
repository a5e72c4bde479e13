import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', '..', 'src', 'cli.js');
const repoRoot = join(here, '..', '..', '..');
const EXAMPLE = join(repoRoot, 'systemd', 'config.example.json');

function cli(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { PATH: process.env['PATH'] }, cwd: mkdtempSync(join(tmpdir(), 'fa-dialplan-')) });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('failover-agi dialplan', () => {
  it('--help prints the usage and exits 0 without reading any config', () => {
    const r = cli('dialplan', '--help', '--config', '/nonexistent/config.json');
    assert.equal(r.code, 0);
    assert.match(r.out, /^Usage: failover-agi dialplan \[--config FILE\] \[--flavor plain\|freepbx\|vicidial\] \[--route NAME\] \[--context NAME\]/);
    assert.equal(r.err, '');
  });

  it('the main usage lists the command', () => {
    assert.match(cli('--help').out, /dialplan \[--config FILE\] \[--flavor plain\|freepbx\|vicidial\]/);
  });

  it('prints the context for a route of the config', () => {
    const r = cli('dialplan', '--config', EXAMPLE, '--flavor', 'freepbx', '--route', 'outbound-failover');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^\[failover-agi-trunk\]$/m);
    assert.match(r.out, /Dial\(PJSIP\/\$\{EXTEN:1\}@carrier-b,60\^5,T\)/);
  });

  it('refuses a broken config with the same problems as check-config, exit 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fa-dialplan-'));
    const file = join(dir, 'bad.json');
    const cfg = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as { carriers: { dial: string }[] };
    cfg.carriers[1]!.dial = 'PJSIP/${number}@b&SIP/x';
    writeFileSync(file, JSON.stringify(cfg));
    const r = cli('dialplan', '--config', file);
    const check = cli('check-config', file);
    assert.equal(r.code, 1);
    assert.equal(check.code, 1);
    assert.equal(r.out, '');
    assert.match(r.err, /carriers\[1\]\.dial = "PJSIP\/\$\{number\}@b&SIP\/x": must be one Asterisk channel/);
    assert.equal(r.err, check.err);
  });

  it('refuses an unknown route (exit 1) and an unknown flavor (exit 2)', () => {
    const route = cli('dialplan', '--config', EXAMPLE, '--route', 'nope');
    assert.equal(route.code, 1);
    assert.equal(route.err, 'failover-agi: no route "nope" (known: outbound-failover)\n');
    const flavor = cli('dialplan', '--config', EXAMPLE, '--flavor', 'asterisk');
    assert.equal(flavor.code, 2);
    assert.match(flavor.err, /--flavor asterisk: use one of plain, freepbx, vicidial/);
  });
});
