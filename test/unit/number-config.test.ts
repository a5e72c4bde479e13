import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { findRoute, parseRouting } from '../../src/config/carriers.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { buildChannel, buildDialData, checkDialTemplate } from '../../src/routing/dial-string.js';
import { normalizeNumber } from '../../src/routing/number.js';

describe('number normalisation', () => {
  const route = { stripDigits: 1, prefix: '' };
  test('VICIdial 91NXXNXXXXXX → 1NXXNXXXXXX', () => assert.deepEqual(normalizeNumber('915552345678', route), { ok: true, number: '15552345678' }));
  test('prefix is added after stripping', () => assert.deepEqual(normalizeNumber('95552345678', { stripDigits: 1, prefix: '1' }), { ok: true, number: '15552345678' }));
  test('a leading + is kept', () => assert.deepEqual(normalizeNumber('+4930123456', { stripDigits: 0, prefix: '' }), { ok: true, number: '+4930123456' }));
  for (const bad of ['', '+', '12a4', '1&2', '1,2', '1|2', '1(2', '1)2', '1/2', '1@2', '1 2', '1\n2', '1\x002', '${X}', '1'.repeat(33), '++1', '1+2']) {
    test(`refused: ${JSON.stringify(bad)}`, () => assert.equal(normalizeNumber(bad, { stripDigits: 0, prefix: '' }).ok, false));
  }
  test('32 characters is the limit', () => {
    assert.equal(normalizeNumber('+' + '1'.repeat(31), { stripDigits: 0, prefix: '' }).ok, true);
    assert.equal(normalizeNumber('1'.repeat(32), { stripDigits: 0, prefix: '' }).ok, false);
  });
  test('too short to strip', () => assert.equal(normalizeNumber('9', route).ok, false));
});

describe('dial strings', () => {
  test('templates that are one channel', () => {
    for (const t of ['SIP/${number}@carrier-primary', 'PJSIP/${number}@carrier-b', 'IAX2/carrier-c/${number}', 'SIP/carrier/${number}', 'PJSIP/+${number}@x.example.com:5060']) {
      assert.equal(checkDialTemplate(t), null, t);
    }
  });
  test('templates refused', () => {
    for (const t of ['SIP/x@a', 'SIP/${number}@a&SIP/${number}@b', 'SIP/${number}@a,30', 'Foo/${number}', 'SIP/${number}@a b', 'SIP/${number}${number}@a', '${number}', 'SIP/${EXTEN}@a', 'SIP/${number}@a)']) {
      assert.notEqual(checkDialTemplate(t), null, t);
    }
  });
  test('build refuses an unsafe number even if a caller skipped normalisation', () => {
    assert.throws(() => buildChannel({ dial: 'SIP/${number}@a' }, '1&SIP/2@evil'));
    assert.equal(buildChannel({ dial: 'SIP/${number}@a' }, '15551234567'), 'SIP/15551234567@a');
  });
  test('Dial data', () => {
    assert.equal(buildDialData(['SIP/1@a'], 60, 5, 'tT'), 'SIP/1@a,60^5,tT');
    assert.equal(buildDialData(['SIP/1@a', 'PJSIP/1@b'], 30, 0, ''), 'SIP/1@a&PJSIP/1@b,30,');
    assert.throws(() => buildDialData(['SIP/1@a'], 60, 5, 'tT,x'));
  });
});

describe('config validation', () => {
  const carriers = [{ name: 'a', dial: 'SIP/${number}@a' }, { name: 'b', dial: 'PJSIP/${number}@b', peer: 'b-endpoint' }];
  test('defaults are filled in', () => {
    const r = parseRouting(carriers, [{ name: 'outbound-failover', carriers: ['a', 'b'] }]);
    assert.ok(r.ok);
    const c = r.routing.carriers.get('a');
    assert.deepEqual([c?.peer, c?.ringTimeout, c?.progressTimeout, c?.dialOptions, c?.weight, c?.enabled], ['a', 60, 5, 'T', 1, true]);
    const route = r.routing.routes.get('outbound-failover');
    assert.deepEqual([route?.strategy, route?.maxAttempts, route?.whenAllDown], ['failover', 2, 'try']);
  });
  const bad: [string, unknown[], unknown[], RegExp][] = [
    ['unknown carrier in a route', carriers, [{ name: 'r', carriers: ['a', 'zzz'] }], /routes\[0\]\.carriers\[1\] = "zzz": unknown carrier/],
    ['duplicate carrier name', [...carriers, { name: 'a', dial: 'SIP/${number}@x' }], [{ name: 'r', carriers: ['a'] }], /carriers\[2\]\.name = "a": duplicate/],
    ['duplicate route name', carriers, [{ name: 'r', carriers: ['a'] }, { name: 'r', carriers: ['b'] }], /routes\[1\]\.name = "r": duplicate/],
    ['template without ${number}', [{ name: 'a', dial: 'SIP/15551234@a' }], [{ name: 'r', carriers: ['a'] }], /carriers\[0\]\.dial = "SIP\/15551234@a": must hold \$\{number\}/],
    ['two channels in a template', [{ name: 'a', dial: 'SIP/${number}@a&SIP/1@b' }], [{ name: 'r', carriers: ['a'] }], /carriers\[0\]\.dial .*one Asterisk channel/],
    ['bad strategy', carriers, [{ name: 'r', carriers: ['a'], strategy: 'random' }], /routes\[0\]\.strategy = "random": must be one of/],
    ['unknown key', [{ name: 'a', dial: 'SIP/${number}@a', ringtimeout: 5 }], [{ name: 'r', carriers: ['a'] }], /carriers\[0\]\.ringtimeout = 5: unknown key/],
    ['bad SIP code list', [{ name: 'a', dial: 'SIP/${number}@a', retrySipCodes: [200] }], [{ name: 'r', carriers: ['a'] }], /retrySipCodes/],
    ['options with a comma', [{ name: 'a', dial: 'SIP/${number}@a', dialOptions: 'tT,G(x)' }], [{ name: 'r', carriers: ['a'] }], /dialOptions/],
    ['bad pattern', carriers, [{ name: 'r', carriers: ['a'], pattern: '([' }], /routes\[0\]\.pattern/],
  ];
  for (const [label, cs, rs, re] of bad) {
    test(`refused: ${label}`, () => {
      const r = parseRouting(cs, rs);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.problems.join('\n'), re);
    });
  }
  test('routes: script + pattern pick the first match; ?route= names one', () => {
    const r = parseRouting(carriers, [
      { name: 'intl', script: 'outbound-failover', pattern: '^9011', carriers: ['b'] },
      { name: 'outbound-failover', carriers: ['a'] },
    ]);
    assert.ok(r.ok);
    assert.equal(findRoute(r.routing, 'outbound-failover', '901144123', undefined)?.name, 'intl');
    assert.equal(findRoute(r.routing, 'outbound-failover', '915551234567', undefined)?.name, 'outbound-failover');
    assert.equal(findRoute(r.routing, 'outbound-failover', '915551234567', 'intl')?.name, 'intl');
    assert.equal(findRoute(r.routing, 'nope', '1', undefined), null);
  });
  test('loadConfig: file < env, port 4577 refused, broken JSON named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fa-cfg-'));
    const f = join(dir, 'c.json');
    writeFileSync(f, JSON.stringify({ agi: { port: 4600 }, carriers, routes: [{ name: 'r', carriers: ['a'] }] }));
    assert.equal(loadConfig({ file: f, env: {} }).settings.agi.port, 4600);
    assert.equal(loadConfig({ file: f, env: { FAILOVER_AGI_PORT: '4700' } }).settings.agi.port, 4700);
    assert.throws(() => loadConfig({ file: f, env: { FAILOVER_AGI_PORT: '4577' } }), /4577/);
    writeFileSync(f, '{ "agi": ');
    assert.throws(() => loadConfig({ file: f, env: {} }), (e: unknown) => e instanceof ConfigError && /not valid JSON/.test(e.message));
    writeFileSync(f, JSON.stringify({ agi: { prot: 1 } }));
    assert.throws(() => loadConfig({ file: f, env: {} }), /prot/);
    writeFileSync(f, JSON.stringify({ agi: { port: 'x' } }));
    assert.throws(() => loadConfig({ file: f, env: {} }), /agi\.port/);
  });
});
