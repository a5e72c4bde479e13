import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { isoTime, maskNumber } from '../../src/log.js';
import { memoryLog } from '../support/daemon.js';

test('the AMI secret and the database password are redacted wherever they appear in a logged object', () => {
  const { log, lines } = memoryLog('info');
  const { settings } = loadConfig({ file: null, env: { FAILOVER_AGI_AMI_SECRET: 'ami-s3cret', FAILOVER_AGI_DB_PASSWORD: 'db-pa55' } });
  log.info({ config: settings }, 'config');
  log.info({ ami: settings.ami, db: settings.db }, 'parts');
  log.info({ secret: 'ami-s3cret', password: 'db-pa55' }, 'top level');
  const text = JSON.stringify(lines());
  assert.ok(!text.includes('ami-s3cret'));
  assert.ok(!text.includes('db-pa55'));
  assert.ok(text.includes('[redacted]'));
});

test('numbers are masked but for the last four digits', () => {
  assert.equal(maskNumber('15552345678', false), '*******5678');
  assert.equal(maskNumber('15552345678', true), '15552345678');
  assert.equal(maskNumber('123', false), '123');
});

/** Runs a child that logs through the daemon's stdout logger, then ends as `end` says; returns its stdout lines. */
async function childLog(body: string): Promise<{ lines: { msg: string }[]; atMs: number[]; closedAtMs: number; status: number | null }> {
  const log = new URL('../../src/log.js', import.meta.url).href;
  const script = `import { createLogger } from ${JSON.stringify(log)};\nconst log = createLogger({ level: 'info' });\n${body}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const t0 = performance.now();
  const atMs: number[] = [];
  let text = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (c: string) => {
    text += c;
    for (let i = 0; i < c.split('\n').length - 1; i++) atMs.push(performance.now() - t0);
  });
  const status = await new Promise<number | null>((r) => child.once('close', r));
  const closedAtMs = performance.now() - t0;
  return { lines: text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string }), atMs, closedAtMs, status };
}

test('log lines are batched but none waits for more: a lone line is written while the process goes on', async () => {
  // the process stays up 2 s after its one line: the batch timer must write it long before the exit does
  const r = await childLog(`log.warn('lone line');\nawait new Promise((r) => setTimeout(r, 2000));`);
  assert.deepEqual(r.lines.map((l) => l.msg), ['lone line']);
  const early = r.closedAtMs - (r.atMs[0] ?? r.closedAtMs);
  assert.ok(early > 1000, `written only ${early.toFixed(0)} ms before the exit`);
});

for (const end of ['process.exit(0)', 'throw new Error("boom")', 'process.kill(process.pid, "SIGTERM")']) {
  test(`every buffered log line is written when the process ends (${end.split('(')[0]})`, async () => {
    const r = await childLog(`process.on('SIGTERM', () => process.exit(0));\nfor (let i = 0; i < 20; i++) log.info('line ' + i);\n${end};`);
    assert.deepEqual(r.lines.map((l) => l.msg), Array.from({ length: 20 }, (_, i) => `line ${i}`));
  });
}

test('a reload\'s new log.level reaches child loggers made before it: a call in progress logs at the new level', () => {
  const { log, lines } = memoryLog('info');
  const call = log.child({ uniqueid: '1797.1' });
  call.debug('before');
  log.level = 'debug';
  call.debug('after');
  log.level = 'warn';
  call.info('quiet again');
  assert.deepEqual(lines().map((l) => l['msg']), ['after']);
});

test('each line\'s time is the text pino\'s isoTime writes, across seconds, before 1970 and past year 9999', () => {
  const times = [0, 1, 999, 1000, 1001, 1_795_412_731_000, 1_795_412_731_009, 1_795_412_731_010, 1_795_412_731_099, 1_795_412_731_100, 1_795_412_731_999, -1, -999, -1000, -1001, 253_402_300_799_999, 253_402_300_800_000, -62_167_219_200_001];
  for (let t = 1_795_412_730_990; t < 1_795_412_731_020; t++) times.push(t);
  // out of order too: the cached second must follow the clock both ways
  for (const t of [...times, ...times.reverse()]) assert.equal(isoTime(t), `,"time":"${new Date(t).toISOString()}"`, String(t));
});
