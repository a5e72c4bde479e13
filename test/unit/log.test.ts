import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { maskNumber } from '../../src/log.js';
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
