import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { AgiChannel, type AgiChannelLimits } from '../../src/agi/channel.js';
import { AgiInterruptedError, AgiTimeoutError } from '../../src/agi/errors.js';
import { header } from '../sim/agi-sim.js';

/**
 * The channel keeps one timer per connection, for the reply limits and the Dial bound alike, and re-arms it per command instead of making
 * a timer per command: each command must still get its whole limit counted from its own send, and an answered
 * command's timer must never fail the next one.
 */

const COMMAND_MS = 300;
const CALL_MS = 900;
const LIMITS: AgiChannelLimits = { headerTimeout: 1000, commandTimeout: COMMAND_MS, maxHeaderBytes: 65536, maxLineBytes: 65536, maxCallDuration: CALL_MS };

async function pair(): Promise<{ channel: AgiChannel; asterisk: Socket; done: () => void }> {
  let accepted: (s: Socket) => void = () => undefined;
  const got = new Promise<Socket>((r) => (accepted = r));
  const server = createServer((s) => accepted(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const asterisk = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  asterisk.on('error', () => undefined);
  const channel = new AgiChannel(await got, LIMITS);
  asterisk.write(header({ port }));
  await channel.readRequest();
  return { channel, asterisk, done: () => server.close() };
}

/** res_agi answers a command with one `200 result=…` line (captures/multi: every SET VARIABLE reply is `200 result=1`). */
function answerAfter(asterisk: Socket, ms: number): void {
  asterisk.once('data', () => setTimeout(() => asterisk.write('200 result=1\n'), ms));
}

const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('per-command time limits on a reused timer', () => {
  test('commands each answered inside the limit never time out, however long they take together', async () => {
    const { channel, asterisk, done } = await pair();
    try {
      // four replies at 2/3 of the limit each: a timer not re-armed per command would fire during the second
      for (let i = 0; i < 4; i++) {
        answerAfter(asterisk, (COMMAND_MS * 2) / 3);
        assert.equal((await channel.setVariable('V', String(i))).resultInt, 1);
      }
      assert.equal(channel.closed, false);
    } finally {
      asterisk.destroy();
      done();
    }
  });

  test('an unanswered command after answered ones times out a whole limit after its own send', async () => {
    const { channel, asterisk, done } = await pair();
    try {
      answerAfter(asterisk, COMMAND_MS / 2);
      await channel.setVariable('V', '1');
      const sent = performance.now();
      await assert.rejects(channel.setVariable('V', '2'), AgiTimeoutError);
      assert.ok(performance.now() - sent >= COMMAND_MS - 5, `timed out after ${performance.now() - sent} ms`);
      assert.equal(channel.closed, true);
    } finally {
      asterisk.destroy();
      done();
    }
  });

  test('a Dial longer than the reply limit is not cut by the previous command`s timer; an unanswered one is given up at maxCallDuration', async () => {
    const { channel, asterisk, done } = await pair();
    try {
      answerAfter(asterisk, 10);
      await channel.setVariable('FAILOVER_STATUS', 'DIALING');
      // answered after twice the reply limit (the reply timer armed by the SET fires meanwhile) and inside maxCallDuration
      answerAfter(asterisk, COMMAND_MS * 2);
      assert.equal((await channel.exec('Dial', 'SIP/x@a,30', null)).resultInt, 1);
      answerAfter(asterisk, 10);
      await channel.getFullVariable('${DIALSTATUS}');
      const sent = performance.now();
      await assert.rejects(channel.exec('Dial', 'SIP/x@b,30', null), AgiInterruptedError);
      assert.ok(performance.now() - sent >= CALL_MS - 5, `given up after ${performance.now() - sent} ms`);
    } finally {
      asterisk.destroy();
      done();
    }
  });

  test('after the last reply no timer fails a channel that is merely idle', async () => {
    const { channel, asterisk, done } = await pair();
    try {
      answerAfter(asterisk, 10);
      await channel.setVariable('V', '1');
      await wait(COMMAND_MS + 100);
      assert.equal(channel.closed, false);
    } finally {
      asterisk.destroy();
      done();
    }
  });
});

describe('closing: the half-close and its linger', () => {
  test('a peer that never closes its side is cut off about a second after our half-close', { timeout: 5000 }, async () => {
    const { channel, asterisk, done } = await pair();
    try {
      // our side is what is cut: the peer, half-closed by us and never writing again, gets no further segment
      const ended = new Promise<number>((r) => channel.once('close', () => r(performance.now())));
      const halfClosed = new Promise<void>((r) => asterisk.once('end', () => r()));
      asterisk.resume();
      const sent = performance.now();
      channel.close();
      // the half-close arrives at once; the peer (allowHalfOpen) keeps its side open, as a stuck Asterisk would
      await halfClosed;
      assert.equal(asterisk.destroyed, false);
      const at = await ended;
      assert.ok(at - sent >= 900, `cut off after ${Math.round(at - sent)} ms, before the linger`);
      assert.equal(channel.closed, true);
      assert.equal(channel.socket.destroyed, true);
    } finally {
      asterisk.destroy();
      done();
    }
  });

  test('a peer that closes at once ends the channel then, and close() twice is harmless', { timeout: 5000 }, async () => {
    const { channel, asterisk, done } = await pair();
    try {
      const closed = new Promise<void>((r) => channel.once('close', () => r()));
      asterisk.once('end', () => asterisk.end());
      asterisk.resume();
      const sent = performance.now();
      channel.close();
      channel.close();
      await closed;
      assert.ok(performance.now() - sent < 900, 'closed by the peer, not by the linger');
      assert.equal(channel.closed, true);
      channel.close();
    } finally {
      asterisk.destroy();
      done();
    }
  });
});
