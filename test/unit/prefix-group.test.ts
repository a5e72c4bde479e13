import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseRouting } from '../../src/config/carriers.js';
import { checkConfig } from '../../src/ops/check-config.js';
import { groupOf, prefixMatcher } from '../../src/routing/prefix-group.js';

const M = prefixMatcher([
  { name: 'uk', prefixes: ['44'] },
  { name: 'uk-mobile', prefixes: ['447'] },
  { name: 'uk-mobile-special', prefixes: ['44797'] },
  { name: 'nanp-ca', prefixes: ['1204', '1416'] },
]);

describe('the prefix group of a dialed number: longest prefix first', () => {
  const cases: [string, string | null][] = [
    ['447700900123', 'uk-mobile'],
    ['+447700900123', 'uk-mobile'],
    ['442079460000', 'uk'],
    ['447970000000', 'uk-mobile-special'],
    ['14165550100', 'nanp-ca'],
    ['12025550100', null],
    ['4', null],
    ['44', 'uk'],
    ['', null],
    ['0447700900123', null],
  ];
  for (const [n, g] of cases) test(`${n || '(empty)'} → ${g ?? 'no group'}`, () => assert.equal(groupOf(n, M), g));

  test('the order of groups in the config does not matter', () => {
    const reversed = prefixMatcher([{ name: 'uk-mobile', prefixes: ['447'] }, { name: 'uk', prefixes: ['44'] }]);
    const forward = prefixMatcher([{ name: 'uk', prefixes: ['44'] }, { name: 'uk-mobile', prefixes: ['447'] }]);
    assert.equal(groupOf('447700900123', reversed), 'uk-mobile');
    assert.equal(groupOf('447700900123', forward), 'uk-mobile');
  });

  test('no groups: every number in none', () => assert.equal(groupOf('447700900123', prefixMatcher([])), null));
});

describe('prefixGroups in the config: refused with every problem listed', () => {
  const carriers = [{ name: 'a', dial: 'SIP/${number}@a' }];
  const routes = [{ name: 'r', carriers: ['a'] }];
  const problems = (groups: unknown): readonly string[] => {
    const r = parseRouting(carriers, routes, groups);
    return r.ok ? [] : r.problems;
  };

  test('absent or [] is no groups; a valid list is kept in order', () => {
    const none = parseRouting(carriers, routes);
    assert.ok(none.ok && none.routing.prefixGroups.length === 0);
    const r = parseRouting(carriers, routes, [{ name: 'uk-mobile', prefixes: ['447'] }, { name: 'us', prefixes: ['1'] }]);
    assert.ok(r.ok);
    assert.deepEqual(r.routing.prefixGroups.map((g) => g.name), ['uk-mobile', 'us']);
    assert.equal(groupOf('15551234567', r.routing.prefixMatcher), 'us');
  });

  const bad: [string, unknown, RegExp[]][] = [
    ['not a list', { name: 'x' }, [/^prefixGroups = .*must be a list/]],
    ['a group that is not an object', ['447'], [/^prefixGroups\[0\] = "447": must be an object/]],
    ['duplicate names', [{ name: 'g', prefixes: ['1'] }, { name: 'g', prefixes: ['2'] }], [/prefixGroups\[1\]\.name = "g": duplicate prefix group name/]],
    ['empty prefix list', [{ name: 'g', prefixes: [] }], [/prefixGroups\[0\]\.prefixes = \[\]: must be a non-empty list/]],
    ['an empty prefix, a +, a number instead of a string', [{ name: 'g', prefixes: ['', '+44', 44] }], [/prefixes\[0\] = "": must be a string of 1-16 digits/, /prefixes\[1\] = "\+44"/, /prefixes\[2\] = 44/]],
    ['the same prefix in two groups', [{ name: 'a', prefixes: ['447'] }, { name: 'b', prefixes: ['447'] }], [/prefixGroups\[1\]\.prefixes\[0\] = "447": already in prefix group a/]],
    ['the same prefix twice in one group', [{ name: 'a', prefixes: ['447', '447'] }], [/prefixes\[1\] = "447": listed twice/]],
    ['an unknown key and a bad name', [{ name: 'no spaces', prefixes: ['1'], carriers: ['a'] }], [/prefixGroups\[0\]\.carriers = .*unknown key/, /prefixGroups\[0\]\.name = "no spaces"/]],
  ];
  for (const [label, groups, want] of bad) {
    test(label, () => {
      const got = problems(groups);
      for (const re of want) assert.ok(got.some((p) => re.test(p)), `${re} in ${JSON.stringify(got)}`);
      assert.equal(got.length, want.length, JSON.stringify(got));
    });
  }

  test('group problems come with the carrier and route problems, all at once', () => {
    const r = parseRouting([{ name: 'a' }], [{ name: 'r', carriers: ['zz'] }], [{ name: 'g', prefixes: ['x'] }]);
    assert.ok(!r.ok);
    assert.ok(r.problems.some((p) => p.startsWith('prefixGroups[0].prefixes[0]')));
    assert.ok(r.problems.some((p) => p.startsWith('carriers[0].dial')));
    assert.ok(r.problems.some((p) => p.startsWith('routes[0].carriers[0]')));
  });
});

describe('check-config names the prefix groups it read', () => {
  test('OK line lists each group with its prefixes; a bad group is listed as a problem, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fa-pg-'));
    const file = join(dir, 'c.json');
    const base = { carriers: [{ name: 'a', dial: 'SIP/${number}@a' }], routes: [{ name: 'r', carriers: ['a'] }] };
    let out = '';
    let err = '';
    const io = { out: (s: string) => void (out += s), err: (s: string) => void (err += s) };
    writeFileSync(file, JSON.stringify({ ...base, prefixGroups: [{ name: 'uk-mobile', prefixes: ['447', '4479'] }] }));
    assert.equal(await checkConfig([file], io), 0, err);
    assert.match(out, /; prefix groups: uk-mobile\[447,4479\]\)/);
    writeFileSync(file, JSON.stringify({ ...base, prefixGroups: [{ name: 'x', prefixes: [''] }] }));
    assert.equal(await checkConfig([file], io), 1);
    assert.match(err, /prefixGroups\[0\]\.prefixes\[0\] = "": must be a string of 1-16 digits/);
  });
});
