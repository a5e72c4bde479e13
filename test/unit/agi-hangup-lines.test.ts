import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { AgiChannel } from '../../src/agi/channel.js';
import { header } from '../sim/agi-sim.js';

const LIMITS = { headerTimeout: 1000, commandTimeout: 1000, maxHeaderBytes: 65536, maxLineBytes: 65536 };

/** A channel on a real socket pair: `asterisk` is the side that plays res_agi. */
async function pair(): Promise<{ channel: AgiChannel; asterisk: Socket; done: () => void }> {
  let accepted: (s: Socket) => void = () => undefined;
  const got = new Promise<Socket>((r) => (accepted = r));
  const server = createServer((s) => accepted(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const asterisk = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const channel = new AgiChannel(await got, LIMITS);
  asterisk.write(header({ port }));
  await channel.readRequest();
  return { channel, asterisk, done: () => server.close() };
}

describe('HANGUP lines (captures/multi facts 7 and 13)', () => {
  test('a HANGUP before our half-close is the caller leaving', async () => {
    const { channel, asterisk, done } = await pair();
    asterisk.write('HANGUP\n');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(channel.hungUp, true);
    asterisk.destroy();
    done();
  });

  test('the HANGUP Asterisk sends after our half-close is not a caller hangup', async () => {
    const { channel, asterisk, done } = await pair();
    let told = false;
    channel.on('hangup', () => (told = true));
    asterisk.on('end', () => {
      // run_agi() ends: one more HANGUP, whatever the channel's state (res_agi.c:4478-4489)
      asterisk.write('HANGUP\n');
      asterisk.end();
    });
    channel.close();
    await new Promise((r) => channel.once('close', r));
    assert.equal(channel.hungUp, false);
    assert.equal(told, false);
    done();
  });
});
