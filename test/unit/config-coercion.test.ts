import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { daemonSchema } from '../../src/config/schema.js';
import { CARRIERS, ROUTES } from '../support/daemon.js';

const file = (v: unknown): string => {
  const f = join(mkdtempSync(join(tmpdir(), 'fa-cfg-')), 'config.json');
  writeFileSync(f, JSON.stringify(v));
  return f;
};
const withRoutes = (v: Record<string, unknown>): Record<string, unknown> => ({ carriers: CARRIERS, routes: ROUTES, ...v });
const problems = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
};

describe('a setting is never silently read as something else', () => {
  const envBooleans: [string, boolean][] = [['0', false], ['no', false], ['off', false], ['false', false], ['No', false], ['1', true], ['yes', true], ['on', true], ['TRUE', true]];
  for (const [text, value] of envBooleans) {
    test(`FAILOVER_AGI_AMI_ENABLED=${text} → ${value}`, () => {
      assert.equal(loadConfig({ file: null, env: { FAILOVER_AGI_AMI_ENABLED: text } }).settings.ami.enabled, value);
    });
  }
  test('a boolean that is no known word is refused, not read as true', () => {
    assert.match(problems(() => loadConfig({ file: null, env: { FAILOVER_AGI_AMI_ENABLED: 'nope' } })).join('\n'), /ami\.enabled.*true or false/);
  });
  test('"ami.enabled": "no" in a file is false', () => {
    assert.equal(loadConfig({ file: file(withRoutes({ ami: { enabled: 'no' } })) }).settings.ami.enabled, false);
  });
  const refused: [string, Record<string, unknown>, RegExp][] = [
    ['failureRatio "half"', { health: { failureRatio: 'half' } }, /health\.failureRatio.*0 to 1/],
    ['failureRatio 5', { health: { failureRatio: 5 } }, /health\.failureRatio.*0 to 1/],
    ['maxEjectedPercent 250', { health: { maxEjectedPercent: 250 } }, /health\.maxEjectedPercent.*0 to 100/],
    ['a count with letters', { health: { consecutiveFailures: '3x' } }, /health\.consecutiveFailures.*whole number/],
    ['a fraction where a count belongs', { store: { flushRows: 2.5 } }, /store\.flushRows.*whole number/],
    ['a port above 65535', { agi: { port: 70000 } }, /agi\.port.*65535/],
    ['a port with trailing junk', { db: { port: '3306x' } }, /db\.port/],
  ];
  for (const [label, cfg, re] of refused) {
    test(`refused: ${label}`, () => {
      assert.match(problems(() => loadConfig({ file: file(withRoutes(cfg)) })).join('\n'), re);
    });
  }
  test('numbers written as text that mean exactly one number are read as that number', () => {
    const s = loadConfig({ file: null, env: { FAILOVER_AGI_DB_PORT: '3307', FAILOVER_AGI_HTTP_PORT: '0' } }).settings;
    assert.equal(s.db.port, 3307);
    assert.equal(s.http.port, 0);
  });

  test('every problem is listed at once: a bad daemon setting does not hide carrier and route problems', () => {
    const p = problems(() =>
      loadConfig({ file: file({ health: { failureRatio: 'half' }, carriers: [{ name: 'a', dial: 'SIP/x@a' }], routes: [{ name: 'r', carriers: ['nope'] }] }) }),
    );
    assert.ok(p.some((l) => l.includes('health.failureRatio')), p.join('\n'));
    assert.ok(p.some((l) => l.includes('carriers[0].dial')), p.join('\n'));
    assert.ok(p.some((l) => l.includes('routes[0].carriers[0]')), p.join('\n'));
  });

  test('a config with no routes is refused where it would run (every call would be NOROUTE)', () => {
    assert.match(problems(() => loadConfig({ file: file({}), requireRoutes: true })).join('\n'), /routes = \[\]/);
    assert.deepEqual(problems(() => loadConfig({ file: file({}) })), [], 'tools that need no routes (migrate) still load it');
  });

  test('no daemon setting uses a convict format that coerces loosely', () => {
    const loose = new Set(['nat', 'port', 'int', 'integer', 'number']);
    const walk = (o: Record<string, unknown>, path: string): string[] =>
      Object.entries(o).flatMap(([k, v]) => {
        const p = path ? `${path}.${k}` : k;
        const node = v as Record<string, unknown>;
        if (node && typeof node === 'object' && 'format' in node) {
          const f = node['format'];
          return f === Boolean || f === Number || (typeof f === 'string' && loose.has(f)) ? [p] : [];
        }
        return node && typeof node === 'object' && !Array.isArray(node) ? walk(node, p) : [];
      });
    assert.deepEqual(walk(daemonSchema as unknown as Record<string, unknown>, ''), []);
  });
});
