import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { keyMatches, withoutKey } from '../../src/agi/auth.js';
import { parseRequest } from '../../src/agi/request.js';
import { loadConfig } from '../../src/config/load.js';
import { generateDialplan } from '../../src/ops/dialplan.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const KEY = 'Abc-123_xyz.456~0123456789';

describe('agi.sharedKey: the parts', () => {
  test('keyMatches: only the exact key; missing, empty, longer, shorter and a prefix all fail', () => {
    assert.equal(keyMatches(KEY, KEY), true);
    for (const bad of [undefined, '', `${KEY}x`, KEY.slice(0, -1), KEY.toLowerCase()]) assert.equal(keyMatches(KEY, bad), false, String(bad));
  });

  test('withoutKey: the call flow and its logs never see the key', () => {
    const req = parseRequest([
      'agi_network: yes',
      `agi_network_script: outbound-failover?route=r1&key=${KEY}`,
      `agi_request: agi://127.0.0.1:4573/outbound-failover?route=r1&key=${KEY}`,
      'agi_uniqueid: 1.1',
    ]);
    assert.equal(req.params.get('key'), KEY);
    const clean = withoutKey(req);
    assert.equal(clean.params.has('key'), false);
    assert.equal(clean.params.get('route'), 'r1');
    assert.equal(clean.script, 'outbound-failover');
    assert.equal(JSON.stringify({ ...clean, params: [...clean.params] }).includes(KEY), false);
    assert.match(clean.request, /key=\[redacted\]/);
  });

  test('the dialplan generator prints the key into the AGI URL and says the file holds it', () => {
    const cfg = loadConfig({ file: join(REPO, 'systemd', 'config.example.json'), env: {} });
    const base = { route: null, context: null, agiHost: '127.0.0.1', agiPort: 4573, source: 'x.json' } as const;
    for (const flavor of ['plain', 'freepbx', 'vicidial'] as const) {
      const out = generateDialplan(cfg.routing, { ...base, flavor, sharedKey: KEY });
      assert.ok(out.ok);
      assert.match(out.text, new RegExp(`AGI\\(agi://127\\.0\\.0\\.1:4573/outbound-failover\\?(route=[\\w-]+&)?key=${KEY.replace(/[.~]/g, '\\$&')},`));
      assert.match(out.text, /This file holds agi\.sharedKey/);
      const none = generateDialplan(cfg.routing, { ...base, flavor });
      assert.ok(none.ok);
      assert.equal(none.text.includes('key='), false);
      assert.match(none.text, /No agi\.sharedKey in the config/);
    }
  });
});
