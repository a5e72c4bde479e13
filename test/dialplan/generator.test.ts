import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRouting, type ValidatedRouting } from '../../src/config/carriers.js';
import { generateDialplan, numberExpression, type DialplanOptions } from '../../src/ops/dialplan.js';

function routing(carriers: unknown[], routes: unknown[]): ValidatedRouting {
  const r = parseRouting(carriers, routes);
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.routing;
}

const CARRIERS = [
  { name: 'a', dial: 'SIP/${number}@trunk-a', ringTimeout: 45, progressTimeout: 4, dialOptions: 'T' },
  { name: 'b', dial: 'PJSIP/${number}@trunk-b', progressTimeout: 0, dialOptions: '' },
  { name: 'c', dial: 'IAX2/trunk-c/${number}', enabled: false },
  { name: 'd', dial: 'PJSIP/${number}@trunk-d' },
];

const OPTS: DialplanOptions = { flavor: 'plain', route: null, context: null, agiHost: '127.0.0.1', agiPort: 4573, source: 'test.json' };

function text(r: ValidatedRouting, opts: Partial<DialplanOptions> = {}): string {
  const out = generateDialplan(r, { ...OPTS, ...opts });
  if (!out.ok) throw new Error(out.problem);
  return out.text;
}

const code = (t: string): string[] => t.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith(';'));
const dials = (t: string): string[] => code(t).filter((l) => l.includes(',Dial(')).map((l) => l.slice(l.indexOf('Dial(')));

describe('dialplan generator', () => {
  it('turns stripDigits and prefix into the expression Asterisk substitutes', () => {
    assert.equal(numberExpression({ stripDigits: 0, prefix: '' }), '${EXTEN}');
    assert.equal(numberExpression({ stripDigits: 1, prefix: '' }), '${EXTEN:1}');
    assert.equal(numberExpression({ stripDigits: 2, prefix: '011' }), '011${EXTEN:2}');
  });

  it('dials the route\'s carriers in route order with each one\'s template, timers and options; skips disabled ones', () => {
    const r = routing(CARRIERS, [{ name: 'out', carriers: ['d', 'c', 'a', 'b'], stripDigits: 1, prefix: '44' }]);
    assert.deepEqual(dials(text(r)), [
      'Dial(PJSIP/44${EXTEN:1}@trunk-d,60^5,T)',
      'Dial(SIP/44${EXTEN:1}@trunk-a,45^4,T)',
      'Dial(PJSIP/44${EXTEN:1}@trunk-b,60,)',
    ]);
    assert.match(text(r), /Not in the static cascade: c/);
  });

  it('stops the cascade at maxAttempts, and goes on only on CHANUNAVAIL/CONGESTION between Dials', () => {
    const r = routing(CARRIERS, [{ name: 'out', carriers: ['a', 'b', 'd'], maxAttempts: 2 }]);
    const lines = code(text(r));
    assert.deepEqual(dials(text(r)), ['Dial(SIP/${EXTEN}@trunk-a,45^4,T)', 'Dial(PJSIP/${EXTEN}@trunk-b,60,)']);
    const first = lines.findIndex((l) => l.includes('Dial('));
    assert.equal(lines[first + 1], ' same => n,GotoIf($["${DIALSTATUS}" != "CHANUNAVAIL" & "${DIALSTATUS}" != "CONGESTION"]?done)');
    assert.equal(lines[first + 3], ' same => n(done),Hangup()');
  });

  it('clears FAILOVER_STATUS and FAILOVER_CAUSE right before AGI() and ends a verdict with Hangup(${FAILOVER_CAUSE})', () => {
    const lines = code(text(routing(CARRIERS, [{ name: 'out', carriers: ['a'] }])));
    const agi = lines.findIndex((l) => l.includes(',AGI('));
    assert.deepEqual(lines.slice(agi - 2, agi + 4), [
      ' same => n,Set(FAILOVER_STATUS=)',
      ' same => n,Set(FAILOVER_CAUSE=)',
      ' same => n,AGI(agi://127.0.0.1:4573/out,${EXTEN})',
      ' same => n,GotoIf($["${FAILOVER_STATUS}" = "" | "${FAILOVER_STATUS}" = "NOROUTE"]?static)',
      ' same => n,GotoIf($["${FAILOVER_STATUS}" = "INVALID"]?invalid)',
      ' same => n,Hangup(${FAILOVER_CAUSE})',
    ]);
  });

  it('names the route in the AGI URL when another route with the same script or a pattern could pick a different one', () => {
    const r = routing(CARRIERS, [
      { name: 'uk', script: 'out', pattern: '^944', carriers: ['a'] },
      { name: 'rest', script: 'out', carriers: ['b'] },
      { name: 'solo', carriers: ['d'] },
    ]);
    assert.match(text(r, { route: 'uk' }), /AGI\(agi:\/\/127\.0\.0\.1:4573\/out\?route=uk,\$\{EXTEN\}\)/);
    assert.match(text(r, { route: 'rest' }), /AGI\(agi:\/\/127\.0\.0\.1:4573\/out\?route=rest,\$\{EXTEN\}\)/);
    assert.match(text(r, { route: 'solo' }), /AGI\(agi:\/\/127\.0\.0\.1:4573\/solo,\$\{EXTEN\}\)/);
    assert.match(text(r, { route: 'solo', agiHost: '0.0.0.0', agiPort: 4600 }), /agi:\/\/127\.0\.0\.1:4600\/solo,/);
    assert.match(text(r, { route: 'solo', agiHost: '::1' }), /agi:\/\/\[::1\]:4573\/solo,/);
  });

  it('shapes each flavor: context, extension pattern, VICIdial call_log first and its AGI arguments', () => {
    const r = routing(CARRIERS, [{ name: 'out', carriers: ['a'], stripDigits: 1 }]);
    assert.equal(code(text(r))[0], '[out]');
    assert.equal(code(text(r, { context: 'my-ctx' }))[0], '[my-ctx]');
    assert.equal(code(text(r, { flavor: 'freepbx' }))[0], '[failover-agi-trunk]');
    const vici = code(text(r, { flavor: 'vicidial' }));
    assert.equal(vici[0], 'exten => _91NXXNXXXXXX,1,AGI(agi://127.0.0.1:4577/call_log)');
    assert.ok(vici.every((l) => l.startsWith('exten => _91NXXNXXXXXX,')), 'VICIdial entries spell out every exten line');
    assert.ok(vici.includes('exten => _91NXXNXXXXXX,n,AGI(agi://127.0.0.1:4573/out,${EXTEN},${CAMPCUST},${CAMPDTO})'));
    assert.equal(vici.filter((l) => l.includes(':4577/')).length, 1, '4577 is VICIdial\'s, used only by its call_log');
    assert.match(text(r, { flavor: 'vicidial' }), /callBudget/);
  });

  it('refuses what it cannot generate', () => {
    const r = routing(CARRIERS, [{ name: 'out', carriers: ['a'] }, { name: 'off', carriers: ['c'] }]);
    assert.deepEqual(generateDialplan(r, { ...OPTS, route: 'nope' }), { ok: false, problem: 'no route "nope" (known: out, off)' });
    const off = generateDialplan(r, { ...OPTS, route: 'off' });
    assert.equal(off.ok, false);
    assert.match(off.ok ? '' : off.problem, /no enabled carrier/);
    assert.equal(generateDialplan(r, { ...OPTS, context: 'a b' }).ok, false);
    assert.equal(generateDialplan(r, { ...OPTS, agiPort: 0 }).ok, false);
  });

  it('puts no ${...} in the file but the ones it means to (no injection from the config)', () => {
    const r = routing(CARRIERS, [{ name: 'out', carriers: ['a', 'b', 'd'], stripDigits: 3, prefix: '+1' }]);
    for (const flavor of ['plain', 'freepbx', 'vicidial'] as const) {
      for (const l of code(text(r, { flavor }))) {
        const rest = l
          .replace(/\$\{REGEX\("\^(\[0-9\])+\+\$" \$\{EXTEN\}\)\}/g, '')
          .replace(/\$\{(EXTEN(:3)?|FAILOVER_STATUS|FAILOVER_CAUSE|DIALSTATUS|CAMPCUST|CAMPDTO)\}/g, '');
        assert.ok(!rest.includes('${'), `unexpected substitution in ${l}`);
      }
      assert.match(text(r, { flavor }), /REGEX\("\^\[0-9\]\[0-9\]\[0-9\]\[0-9\]\+\$" \$\{EXTEN\}\)/, 'the guard wants more digits than the route strips');
    }
  });
});
