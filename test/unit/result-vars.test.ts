import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setExpression, setsConfirmed, type ResultVars } from '../../src/calls/result-vars.js';

const VARS: ResultVars = [
  ['FAILOVER_STATUS', 'EXHAUSTED'],
  ['FAILOVER_CARRIER', 'primary&carrier-b.2'],
  ['FAILOVER_ATTEMPTS', '2'],
  ['FAILOVER_CAUSE', ''],
  ['DIALSTATUS', 'CHANUNAVAIL'],
];

describe('result variables in one round trip', () => {
  test('one SET() per variable, in order, separated so the reply shows each value', () => {
    assert.equal(
      setExpression(VARS),
      '${SET(FAILOVER_STATUS=EXHAUSTED)}|${SET(FAILOVER_CARRIER=primary&carrier-b.2)}|${SET(FAILOVER_ATTEMPTS=2)}|${SET(FAILOVER_CAUSE=)}|${SET(DIALSTATUS=CHANUNAVAIL)}',
    );
  });

  test('a value that could break a function argument or the reply is refused: SET VARIABLE takes it', () => {
    for (const bad of ['a$b', 'a{b', 'a}b', 'a(b', 'a)b', 'a,b', 'a|b', 'a\\b', 'a"b', 'a\tb', 'a\nb', 'a\x7fb']) {
      assert.equal(setExpression([['FAILOVER_STATUS', 'ANSWER'], ['FAILOVER_CARRIER', bad]]), null, JSON.stringify(bad));
    }
    assert.equal(setExpression([]), null);
    assert.throws(() => setExpression([['NOT A NAME', 'x']]));
  });

  test('confirmed only when the reply is every value in order', () => {
    assert.equal(setsConfirmed(VARS, 'EXHAUSTED|primary&carrier-b.2|2||CHANUNAVAIL'), true);
    // no func_logic: every SET() expanded to nothing
    assert.equal(setsConfirmed(VARS, '||||'), false);
    assert.equal(setsConfirmed(VARS, 'EXHAUSTED|primary&carrier-b.2|2|'), false);
    // SET() strips the value (func_logic.c:281): a value with spaces round it does not come back as sent
    assert.equal(setsConfirmed([['FAILOVER_STATUS', ' ANSWER']], 'ANSWER'), false);
  });
});
