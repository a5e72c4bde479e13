import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { endWithin, writeThenRead } from '../../src/store/poll-round.js';

describe('a cluster poll round', () => {
  test('a failed write still reads, and the round fails with the write error', async () => {
    const done: string[] = [];
    await assert.rejects(
      writeThenRead(
        async () => {
          done.push('write');
          throw new Error('INSERT command denied');
        },
        async () => {
          done.push('read');
        },
      ),
      /INSERT command denied/,
    );
    assert.deepEqual(done, ['write', 'read']);
  });

  test('a failed read fails the round with the read error, whatever the write did', async () => {
    await assert.rejects(writeThenRead(async () => { throw new Error('write'); }, async () => { throw new Error('read timeout'); }), /read timeout/);
    await assert.rejects(writeThenRead(async () => undefined, async () => { throw new Error('read timeout'); }), /read timeout/);
    await writeThenRead(async () => undefined, async () => undefined);
  });

  test('a pool whose end never settles is given up after the bound', async () => {
    const t0 = Date.now();
    await endWithin({ end: () => new Promise<void>(() => undefined) }, 50);
    assert.ok(Date.now() - t0 < 1000);
    let ended = false;
    await endWithin({ end: async () => { ended = true; } }, 5000);
    assert.ok(ended);
    await endWithin({ end: async () => { throw new Error('already closed'); } }, 50);
  });
});
