import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KEY_PATTERN } from '../../src/agi/auth.js';

const BUILD = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const REPO = join(BUILD, '..');
// names of our own, removed afterwards: the test never touches a real failover-agi user
const SVC = 'fa-inst-svc';
const OPS = 'fa-inst-ops';
const isRoot = process.getuid?.() === 0;

function gid(name: string): number {
  const line = readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  return Number(line?.split(':')[2] ?? -1);
}
function uid(name: string): number {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  return Number(line?.split(':')[2] ?? -1);
}

describe('install.sh into a scratch root: who can read what', { skip: isRoot ? false : 'not root: install.sh needs root (chown, useradd); run the suite as root to cover it' }, () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'fa-install-'));
    const r = spawnSync('bash', [join(REPO, 'systemd', 'install.sh'), '--root', root, '--no-build'], {
      encoding: 'utf8',
      env: { ...process.env, SERVICE_USER: SVC, OPS_GROUP: OPS, DIST: BUILD },
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
    spawnSync('userdel', [SVC]);
    spawnSync('groupdel', [SVC]);
    spawnSync('groupdel', [OPS]);
  });

  const mode = (p: string): { mode: number; uid: number; gid: number } => {
    const s = statSync(join(root, p));
    return { mode: s.mode & 0o7777, uid: s.uid, gid: s.gid };
  };

  test('secrets: root and the service user only; the operators\' group reads none of them', () => {
    for (const f of ['etc/failover-agi/config.json', 'etc/default/failover-agi', 'etc/failover-agi/agi-key']) {
      assert.deepEqual(mode(f), { mode: 0o640, uid: 0, gid: gid(SVC) }, f);
      assert.notEqual(mode(f).gid, gid(OPS), `${f} is not the operators' group`);
    }
    assert.deepEqual(mode('etc/failover-agi'), { mode: 0o750, uid: 0, gid: gid(SVC) });
    const members = readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith(`${SVC}:`))?.split(':')[3] ?? '';
    assert.equal(members, '', 'nobody is a member of the service group');
  });

  test('spool and journal: 0700, the service user\'s', () => {
    for (const d of ['var/lib/failover-agi', 'var/lib/failover-agi/spool']) {
      assert.equal(mode(d).mode, 0o700, d);
      assert.equal(mode(d).uid, uid(SVC), d);
    }
  });

  test('a fresh config asks for the generated key; the unit names the configured user and groups', () => {
    const cfg = JSON.parse(readFileSync(join(root, 'etc/failover-agi/config.json'), 'utf8')) as { agi: { sharedKeyFile: string } };
    assert.equal(cfg.agi.sharedKeyFile, '/etc/failover-agi/agi-key');
    assert.match(readFileSync(join(root, 'etc/failover-agi/agi-key'), 'utf8').trim(), KEY_PATTERN);
    const unit = readFileSync(join(root, 'etc/systemd/system/failover-agi.service'), 'utf8');
    assert.match(unit, new RegExp(`^User=${SVC}$`, 'm'));
    assert.match(unit, new RegExp(`^Group=${OPS}$`, 'm'));
    assert.match(unit, new RegExp(`^SupplementaryGroups=${SVC}$`, 'm'));
    assert.ok(existsSync(join(root, 'opt/failover-agi/dist/src/cli.js')));
  });

  test('a second run keeps the key and the config, and tightens modes an older install left open', () => {
    const key = readFileSync(join(root, 'etc/failover-agi/agi-key'), 'utf8');
    spawnSync('chmod', ['0750', join(root, 'var/lib/failover-agi/spool')]);
    const r = spawnSync('bash', [join(REPO, 'systemd', 'install.sh'), '--root', root, '--no-build'], { encoding: 'utf8', env: { ...process.env, SERVICE_USER: SVC, OPS_GROUP: OPS, DIST: BUILD } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(root, 'etc/failover-agi/agi-key'), 'utf8'), key);
    assert.equal(mode('var/lib/failover-agi/spool').mode, 0o700);
  });
});
