import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AgiProtocolError, AgiUnsafeArgumentError } from '../../src/agi/errors.js';
import { checkVariableName, quoteArg } from '../../src/agi/quote.js';
import { parseReply200, ReplyDecoder } from '../../src/agi/reply.js';
import { parseCallerCode, parseHeaderLine, parseRequest } from '../../src/agi/request.js';
import { header, parseArgs } from '../sim/agi-sim.js';

describe('reply parsing (res_agi.c reply formats)', () => {
  const rows: [string, string, number | null, string | null, Record<string, string>][] = [
    ['200 result=0', '0', 0, null, {}],
    ['200 result=-1', '-1', -1, null, {}],
    ['200 result=1 (CHANUNAVAIL)', '1', 1, 'CHANUNAVAIL', {}],
    ['200 result=1 ()', '1', 1, '', {}],
    ['200 result=0 endpos=8000', '0', 0, null, { endpos: '8000' }],
    ['200 result=1 (SIP 503 Service Unavailable)', '1', 1, 'SIP 503 Service Unavailable', {}],
    ['200 result=1 (SIP 200 OK))', '1', 1, 'SIP 200 OK)', {}],
    ['200 result=1 (a (nested) value) endpos=12', '1', 1, 'a (nested) value', { endpos: '12' }],
    ['200 result=1 (timeout) endpos=0', '1', 1, 'timeout', { endpos: '0' }],
    // the result ends at the first whitespace of any kind, a tab included, as \S* ends it
    ['200 result=1\t(x)', '1', 1, null, {}],
    ['200 result=', '', null, null, {}],
    ['200 result=abc', 'abc', null, null, {}],
  ];
  for (const [line, result, int, data, extra] of rows) {
    test(line, () => {
      const r = parseReply200(line);
      assert.equal(r.result, result);
      assert.equal(r.resultInt, int);
      assert.equal(r.data, data);
      assert.deepEqual(r.extra, extra);
    });
  }
  test('a line that is not a 200 reply is a protocol error', () => {
    for (const line of ['200 resul=1', '201 result=1', ' 200 result=1', '200result=1']) {
      assert.throws(() => parseReply200(line), /not a 200 reply/, line);
    }
  });
  test('510, 511, one-line 520 and the 520 block', () => {
    const d = new ReplyDecoder();
    assert.deepEqual(d.push('510 Invalid or unknown command'), { kind: 'invalid', code: 510 });
    assert.deepEqual(d.push('511 Command Not Permitted on a dead channel or intercept routine'), { kind: 'invalid', code: 511 });
    assert.deepEqual(d.push('520 Invalid command syntax.  Proper usage not available.'), { kind: 'syntax', usage: '' });
    assert.equal(d.push('520-Invalid command syntax.  Proper usage follows:'), null);
    assert.equal(d.push(' Usage: GET FULL VARIABLE <variablename> [<channel name>]'), null);
    assert.equal(d.push('200 result=1 (this line is usage text, not a reply)'), null);
    assert.deepEqual(d.push('520 End of proper usage.'), { kind: 'syntax', usage: ' Usage: GET FULL VARIABLE <variablename> [<channel name>]\n200 result=1 (this line is usage text, not a reply)' });
    assert.deepEqual(d.push('HANGUP'), { kind: 'hangup' });
  });
  test('garbage is a protocol error, not a hang', () => {
    assert.throws(() => new ReplyDecoder().push('lol'), AgiProtocolError);
    assert.throws(() => new ReplyDecoder().push('200 nope'), AgiProtocolError);
  });
});

describe('argument quoting round-trips through parse_args()', () => {
  const values = ['plain', 'with space', 'comma,separated', 'quote"inside', 'back\\slash', '${HANGUPCAUSE(${HANGUPCAUSE_KEYS()},tech)}', '', 'SIP/1@a,60^5,tT'];
  for (const v of values) {
    test(JSON.stringify(v), () => {
      assert.deepEqual(parseArgs(`SET VARIABLE X ${quoteArg(v)}`), ['SET', 'VARIABLE', 'X', v]);
    });
  }
  test('CR, LF and NUL are refused, never stripped', () => {
    for (const v of ['a\nHANGUP', 'a\r', 'a\0b']) assert.throws(() => quoteArg(v), AgiUnsafeArgumentError);
  });
  test('variable names are checked', () => {
    assert.equal(checkVariableName('FAILOVER_STATUS'), 'FAILOVER_STATUS');
    assert.throws(() => checkVariableName('X Y'), AgiUnsafeArgumentError);
    assert.throws(() => checkVariableName('X\nY'), AgiUnsafeArgumentError);
  });
});

describe('request parsing', () => {
  test('the capture header parses into a typed request', () => {
    const lines = header({ port: 4573, args: ['915552345678', 'CAMP1'], callerIdName: 'V1241830050000012345' }).trim().split('\n');
    const r = parseRequest(lines);
    assert.equal(r.script, 'outbound-failover');
    assert.equal(r.request, 'agi://127.0.0.1:4573/outbound-failover');
    assert.equal(r.uniqueid, '1796152709.1');
    assert.equal(r.channel, 'Local/15552345678@outbound-failover-00000000;2');
    assert.deepEqual(r.args, ['915552345678', 'CAMP1']);
    assert.equal(r.accountCode, '');
    assert.equal(r.leadId, 12345);
    assert.equal(r.network, true);
  });
  test('split on the first ": " only', () => {
    assert.deepEqual(parseHeaderLine('agi_arg_1: sip:alice@example.com: x'), ['agi_arg_1', 'sip:alice@example.com: x']);
    assert.deepEqual(parseHeaderLine('agi_accountcode: '), ['agi_accountcode', '']);
    assert.throws(() => parseHeaderLine('no separator'), AgiProtocolError);
  });
  test('script path from agi_request when agi_network_script is absent; query string becomes params', () => {
    const r = parseRequest(['agi_network: yes', 'agi_request: agi://10.0.0.1:4573/outbound-failover?route=intl']);
    assert.equal(r.script, 'outbound-failover');
    assert.equal(r.params.get('route'), 'intl');
  });
  test('VICIdial caller codes', () => {
    assert.deepEqual(parseCallerCode('M4121149450000795193'), { callerCode: 'M4121149450000795193', leadId: 795193 });
    assert.deepEqual(parseCallerCode('Lab', 'V1241830050000012345'), { callerCode: 'V1241830050000012345', leadId: 12345 });
    assert.deepEqual(parseCallerCode('V12345', 'unknown'), { callerCode: null, leadId: null });
  });
});
