import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const UNIT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'systemd', 'failover-agi.service');

/** The [Service] directives as key → values (a key may repeat). */
function directives(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1] as string, [...(out.get(m[1] as string) ?? []), m[2] as string]);
  }
  return out;
}

describe('systemd unit: resource limits and sandbox', () => {
  const d = directives(readFileSync(UNIT, 'utf8'));
  const one = (k: string): string | undefined => d.get(k)?.[0];

  test('a runaway daemon is what the kernel kills, not Asterisk or MariaDB', () => {
    assert.match(one('MemoryMax') ?? '', /^\d+[KMG]$/);
    assert.ok(Number(one('OOMScoreAdjust')) > 0, 'OOMScoreAdjust raises our OOM score');
  });

  test('network: deny everything but localhost; /proc: our own processes only', () => {
    assert.equal(one('IPAddressDeny'), 'any');
    assert.equal(one('IPAddressAllow'), 'localhost');
    assert.equal(one('ProtectProc'), 'invisible');
    assert.equal(one('ProcSubset'), 'pid');
  });

  test('files it creates are its own (spool, journal), the socket is the operators\' group', () => {
    assert.equal(one('UMask'), '0077');
    assert.equal(one('StateDirectoryMode'), '0700');
    assert.equal(one('Group'), 'failover-agi-ops');
    assert.equal(one('SupplementaryGroups'), 'failover-agi');
  });

  test('systemd-analyze security: exposure 1.6 or better', { skip: existsSync('/usr/bin/systemd-analyze') ? false : 'systemd-analyze not installed' }, () => {
    const r = spawnSync('systemd-analyze', ['security', '--offline=yes', UNIT], { encoding: 'utf8' });
    const m = /Overall exposure level for \S+: (\d+\.\d+)/.exec(`${r.stdout}${r.stderr}`);
    assert.ok(m, `no score in: ${r.stdout.slice(-300)}${r.stderr.slice(-300)}`);
    assert.ok(Number(m[1]) <= 1.6, `exposure ${m[1]}`);
  });
});
