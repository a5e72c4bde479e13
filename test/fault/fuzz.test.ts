import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AgiProtocolError, AgiUnsafeArgumentError } from '../../src/agi/errors.js';
import { quoteArg } from '../../src/agi/quote.js';
import { parseReply200, ReplyDecoder } from '../../src/agi/reply.js';
import { parseRequest } from '../../src/agi/request.js';
import { normalizeNumber, SAFE_NUMBER } from '../../src/routing/number.js';
import { header, parseArgs, simulateCall } from '../sim/agi-sim.js';
import { startTestDaemon } from '../support/daemon.js';
import { pick, prng, randomString } from '../support/prng.js';

const SEED = 20261124;
const VALID = ['200 result=0', '200 result=-1', '200 result=1 (CONGESTION|34|||SIP/a-1|SIP 503 Service Unavailable)', '200 result=0 endpos=8000', '510 Invalid or unknown command', '511 Command Not Permitted on a dead channel or intercept routine', '520-Invalid command syntax.  Proper usage follows:', '520 End of proper usage.', 'HANGUP'];

function mutate(r: () => number, s: string): string {
  const ops = r() * 5;
  let out = s;
  for (let i = 0; i < ops; i++) {
    const at = Math.floor(r() * (out.length + 1));
    switch (Math.floor(r() * 4)) {
      case 0:
        out = out.slice(0, at) + randomString(r, 4) + out.slice(at);
        break;
      case 1:
        out = out.slice(0, at) + out.slice(at + 1 + Math.floor(r() * 3));
        break;
      case 2:
        out = out.slice(0, at);
        break;
      default:
        out = out.slice(0, at) + pick(r, ['(', ')', ' ', '=', '-', '200 ', 'result=']) + out.slice(at);
    }
  }
  return out.replace(/\n/g, '');
}

describe('fuzz (fixed seed, short budget)', () => {
  test('reply decoder: 20,000 mutated lines give a message, null, or an AgiProtocolError, nothing else', () => {
    const r = prng(SEED);
    for (let i = 0; i < 20000; i++) {
      const d = new ReplyDecoder();
      const line = r() < 0.2 ? randomString(r, 60) : mutate(r, pick(r, VALID));
      try {
        const m = d.push(line);
        if (m?.kind === 'reply') assert.equal(typeof m.reply.result, 'string');
      } catch (err) {
        assert.ok(err instanceof AgiProtocolError, `${String(err)} for ${JSON.stringify(line)}`);
      }
    }
  });

  test('reply data round-trips for 5,000 random values', () => {
    const r = prng(SEED + 1);
    for (let i = 0; i < 5000; i++) {
      const data = randomString(r, 80).replace(/\n|\r/g, '');
      if (/\) [A-Za-z_]+=/.test(data)) continue; // ambiguous on the wire itself
      assert.equal(parseReply200(`200 result=1 (${data})`).data, data);
    }
  });

  test('request parser: 5,000 mutated header blocks parse or fail with AgiProtocolError', () => {
    const r = prng(SEED + 2);
    const base = header({ port: 4573, args: ['15551234567', 'camp'] }).trim().split('\n');
    for (let i = 0; i < 5000; i++) {
      const lines = base.map((l) => (r() < 0.1 ? mutate(r, l) : l)).filter(() => r() > 0.05);
      try {
        const req = parseRequest(lines);
        assert.ok(Array.isArray(req.args));
      } catch (err) {
        assert.ok(err instanceof AgiProtocolError, String(err));
      }
    }
  });

  test('quoting: 10,000 random strings survive parse_args() exactly, or are refused for CR/LF/NUL', () => {
    const r = prng(SEED + 3);
    for (let i = 0; i < 10000; i++) {
      const v = randomString(r, 40, 'ab "\\\',&|()${}\t\r\n\0é😀 ');
      try {
        assert.deepEqual(parseArgs(`EXEC Dial ${quoteArg(v)}`), ['EXEC', 'Dial', v]);
      } catch (err) {
        assert.ok(err instanceof AgiUnsafeArgumentError && /[\r\n\0]/.test(v), String(err));
      }
    }
  });

  test('numbers: 10,000 random inputs never produce a number outside digits and a leading +', () => {
    const r = prng(SEED + 4);
    for (let i = 0; i < 10000; i++) {
      const raw = randomString(r, 40, '0123456789+&,|()/@ ${}\n#*abc');
      const n = normalizeNumber(raw, { stripDigits: Math.floor(r() * 3), prefix: pick(r, ['', '1', '+']) });
      if (n.ok) assert.match(n.number, SAFE_NUMBER);
    }
  });

  test('live sessions: 60 calls with a mutated reply at a random command never build an unsafe Dial, and the daemon keeps serving', async () => {
    const d = await startTestDaemon({ overrides: { 'agi.commandTimeout': 200 } });
    try {
      const r = prng(SEED + 5);
      for (let i = 0; i < 60; i++) {
        const at = 1 + Math.floor(r() * 8);
        const reply = `${mutate(r, pick(r, VALID))}\n${r() < 0.3 ? 'HANGUP\n' : ''}${r() < 0.3 ? '200 result=1 (late)\n' : ''}`;
        const res = await simulateCall({ port: d.port, args: ['15552345678'], carriers: { 'carrier-primary': { kind: 'reject', sip: 503 }, 'carrier-b': { kind: 'answer' } }, rawReplies: { [at]: reply }, maxCallMs: 1500 });
        for (const dial of res.dials) assert.match(dial, /^(SIP\/15552345678@carrier-primary|PJSIP\/15552345678@carrier-b|IAX2\/carrier-c\/15552345678),\d+\^5,T$/);
        assert.ok(res.dials.length <= 3);
      }
      const ok = await simulateCall({ port: d.port, args: ['15552345678'], carriers: { 'carrier-primary': { kind: 'answer' } } });
      assert.equal(ok.vars.get('FAILOVER_STATUS'), 'ANSWER');
    } finally {
      await d.stop();
    }
  });
});
