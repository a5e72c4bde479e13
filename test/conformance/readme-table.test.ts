import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadCaptures } from './capture-reader.js';
import { EXPECTED } from './expected.js';
import { TABLE_END, TABLE_START, verdictTableRows } from './verdict-table.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CAPTURES = join(ROOT, '..', 'shared', 'asterisk', 'captures');
const present = existsSync(join(CAPTURES, 'multi'));

test("docs/verdicts.md's verdict table is the captures' table", { skip: present ? false : `no captures at ${CAPTURES}` }, () => {
  const doc = readFileSync(join(ROOT, 'docs', 'verdicts.md'), 'utf8');
  const start = doc.indexOf(TABLE_START);
  const end = doc.indexOf(TABLE_END);
  assert.ok(start >= 0 && end > start, `docs/verdicts.md needs the markers ${TABLE_START} … ${TABLE_END}`);
  const documented = doc.slice(start + TABLE_START.length, end).trim().split('\n');
  const built = verdictTableRows(loadCaptures(CAPTURES), EXPECTED);
  assert.deepEqual(documented, built, `paste this between the markers:\n${built.join('\n')}`);
});
