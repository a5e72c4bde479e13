import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { intOrNull, OUTCOME_WITH_LEG_EXPRESSION, parseOutcomeWithLeg } from '../../src/routing/outcome.js';
import { expand, type CauseEntry } from '../sim/agi-sim.js';
import { ifFunction, separateArgs } from '../sim/dialplan-eval.js';

const KEY = 'SIP/carrier-primary-00000000';
const vars = (): Map<string, string> => new Map([['DIALSTATUS', 'CONGESTION'], ['HANGUPCAUSE', '34']]);

describe('the lone leg read with the outcome', () => {
  test('one key: its ast and tech in the same reply, the tech last', () => {
    const causes = new Map<string, CauseEntry>([[KEY, { tech: 'SIP 503 Service Unavailable', ast: 'Circuit/channel congestion' }]]);
    const warnings: string[] = [];
    const reply = expand(OUTCOME_WITH_LEG_EXPRESSION, vars(), causes, warnings);
    assert.equal(reply, `CONGESTION|34||||${KEY}|Circuit/channel congestion|SIP 503 Service Unavailable`);
    assert.deepEqual(warnings, []);
    const { fields, leg } = parseOutcomeWithLeg(reply);
    assert.deepEqual(fields.keys, [KEY]);
    assert.deepEqual(leg, { key: KEY, tech: 'SIP 503 Service Unavailable', sipCode: 503, sipReason: 'Service Unavailable', cause: 34 });
  });

  test('no key, or two: nothing looked up (no WARNING, fact 2 and fact 9), and the legs are read by key', () => {
    for (const keys of [[], [KEY, 'SIP/carrier-b-00000001']]) {
      const causes = new Map<string, CauseEntry>(keys.map((k) => [k, { tech: 'SIP 486 Busy Here', ast: 'User busy' }]));
      const warnings: string[] = [];
      const reply = expand(OUTCOME_WITH_LEG_EXPRESSION, vars(), causes, warnings);
      assert.deepEqual(warnings, [], `${keys.length} keys`);
      assert.equal(reply, `CONGESTION|34||||${keys.join(',')}||`);
      assert.equal(parseOutcomeWithLeg(reply).leg, null);
    }
  });

  test('a `|` in the SIP reason phrase stays in the tech', () => {
    const { leg } = parseOutcomeWithLeg(`BUSY|17||||${KEY}|User busy|SIP 486 Busy | Here`);
    assert.equal(leg?.tech, 'SIP 486 Busy | Here');
    assert.equal(leg?.cause, 17);
  });

  test('an unsafe key, or a reply without both texts, is not taken from the fold', () => {
    assert.equal(parseOutcomeWithLeg('BUSY|17||||SIP/x)y-00000000|User busy|SIP 486 Busy Here').leg, null);
    assert.equal(parseOutcomeWithLeg(`BUSY|17||||${KEY}||`).leg, null);
    assert.equal(parseOutcomeWithLeg(`BUSY|17||||${KEY}|User busy|`).leg, null);
    // the old six-field reply (no func_logic) has no leg
    assert.equal(parseOutcomeWithLeg(`BUSY|17||||${KEY}`).leg, null);
  });

  test('a key is an argument, never an expression: what HANGUPCAUSE_KEYS() returns is not substituted again (pbx_variables.c:519-545)', () => {
    const hostile = '${SET(PWNED=1)}';
    const causes = new Map<string, CauseEntry>([[hostile, { tech: 'SIP 200 OK', ast: 'Normal Clearing' }]]);
    const sets: [string, string][] = [];
    const v = vars();
    const reply = expand(OUTCOME_WITH_LEG_EXPRESSION, v, causes, [], { sets });
    assert.deepEqual(sets, []);
    assert.equal(v.get('PWNED'), undefined);
    assert.equal(parseOutcomeWithLeg(reply).leg, null, 'and the daemon does not take a leg of a key it would not read');
  });

  test('IF() and its argument split as func_logic.c and main/app.c do', () => {
    assert.equal(ifFunction('28?HANGUPCAUSE(SIP/a-1,ast):FAILOVER_NO_LEG'), 'HANGUPCAUSE(SIP/a-1,ast)');
    assert.equal(ifFunction('0?HANGUPCAUSE(SIP/a-1,ast):FAILOVER_NO_LEG'), 'FAILOVER_NO_LEG');
    // the `:` inside the parentheses does not split
    assert.equal(ifFunction('1?HANGUPCAUSE(SIP/a:b-1,ast):X'), 'HANGUPCAUSE(SIP/a:b-1,ast)');
    assert.equal(ifFunction('?a:b'), null);
    assert.equal(ifFunction('1?'), null);
    assert.deepEqual(separateArgs('a,"b,c",d', ',', 2), ['a', '"b,c",d']);
    assert.deepEqual(separateArgs('"a,b",c', ',', 2), ['a,b', 'c']);
  });
});

describe('an integer field of the outcome read', () => {
  const cases: [string | undefined, number | null][] = [
    ['16', 16], [' 0 ', 0], ['-1', -1], ['000000000012', 12], ['123456789012', 123456789012], ['1234567890123', null], ['-123456789012', -123456789012],
    ['', null], ['  ', null], ['-', null], ['--1', null], ['+1', null], ['1.5', null], ['1e3', null], ['0x10', null], ['١٢', null], ['12a', null], [undefined, null],
  ];
  for (const [text, want] of cases) test(`${JSON.stringify(text)} → ${want}`, () => assert.equal(intOrNull(text), want));
});
