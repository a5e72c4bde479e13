import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkCondition, evaluateExpression, extensionMatches, parseDialplan, runCall } from './extensions-interpreter.js';

// The interpreter is only worth its table if it reads extensions.conf as Asterisk does; these pin the parts the files rely on.
describe('extensions.conf interpreter', () => {
  it('evaluates $[...] with | below & below comparisons, quoted strings and numbers (ast_expr2.y)', () => {
    assert.equal(evaluateExpression('"" = "" | "X" = "NOROUTE"'), '1');
    assert.equal(evaluateExpression('"DIALING" = "" | "DIALING" = "NOROUTE"'), '0');
    assert.equal(evaluateExpression('"BUSY" != "CHANUNAVAIL" & "BUSY" != "CONGESTION"'), '1');
    assert.equal(evaluateExpression('"CONGESTION" != "CHANUNAVAIL" & "CONGESTION" != "CONGESTION"'), '0');
    assert.equal(evaluateExpression('1 = 0'), '0');
    assert.equal(evaluateExpression('"034" = "34"'), '1', 'numbers compare as numbers');
    assert.equal(evaluateExpression('abc | def'), 'abc', '| returns its left side when it is not null or zero');
    assert.equal(evaluateExpression('0 | def'), 'def');
    assert.equal(evaluateExpression('abc & 0'), '0');
    assert.throws(() => evaluateExpression('1 + 1'), /not in the interpreter's subset/);
  });

  it('reads conditions as pbx_checkcondition does', () => {
    assert.equal(checkCondition(''), false);
    assert.equal(checkCondition('0'), false);
    assert.equal(checkCondition('1'), true);
    assert.equal(checkCondition('CONGESTION'), true);
  });

  it('matches _X. and _91NXXNXXXXXX as Asterisk does', () => {
    assert.ok(extensionMatches('_X.', '15552345678'));
    assert.ok(!extensionMatches('_X.', '1'), '. needs at least one more character');
    assert.ok(extensionMatches('_X.', '9555&SIP/x'), '. matches anything: why the static cascade checks the number');
    assert.ok(extensionMatches('_91NXXNXXXXXX', '915552345678'));
    assert.ok(!extensionMatches('_91NXXNXXXXXX', '911552345678'), 'N is 2-9');
    assert.ok(!extensionMatches('_91NXXNXXXXXX', '9155523456789'));
  });

  const run = (body: string, vars: Record<string, string> = {}, cause = 0) =>
    runCall(parseDialplan(`[t]\nexten => _X.,1,NoOp()\n${body}`), { exten: '915552345678', context: 't', vars, cause, daemon: { agiStatus: 'SUCCESS' } });

  it('substitutes ${EXTEN:N}, REGEX and labels; Set(X=) clears a variable', () => {
    const r = run(' same => n,Set(A=${EXTEN:1}-${EXTEN:-4}-${EXTEN:1:3})\n same => n,Set(B=)\n same => n,GotoIf(${REGEX("^[0-9]+$" ${EXTEN})}?yes)\n same => n,Hangup(1)\n same => n(yes),Hangup(2)', { B: 'left' });
    assert.equal(r.vars.get('A'), '15552345678-5678-155');
    assert.equal(r.vars.has('B'), false);
    assert.equal(r.hangupCause, 2);
  });

  it('Hangup() keeps the channel cause, 16 when there is none; Hangup(N) sets it (pbx_builtin_hangup)', () => {
    assert.equal(run(' same => n,Hangup()', {}, 34).hangupCause, 34);
    assert.equal(run(' same => n,Hangup()').hangupCause, 16);
    assert.equal(run(' same => n,Hangup(${C})', { C: '19' }, 34).hangupCause, 19);
  });

  it('does not re-substitute a value: ${...} inside EXTEN stays text', () => {
    const r = runCall(parseDialplan('[t]\nexten => _X.,1,Set(A=${EXTEN})\n same => n,Hangup()'), { exten: '9${HANGUPCAUSE}', context: 't', daemon: { agiStatus: 'SUCCESS' } });
    assert.equal(r.vars.get('A'), '9${HANGUPCAUSE}');
  });

  it('refuses what it does not model, and reports falling off the end', () => {
    assert.throws(() => run(' same => n,Busy(5)'), /application Busy is not in the interpreter's subset/);
    assert.throws(() => run(' same => n,Set(A=${CUT(EXTEN,-,1)})'), /function CUT/);
    assert.equal(run(' same => n,NoOp()').end, 'fell-through');
  });
});
