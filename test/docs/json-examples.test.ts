import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..', '..');
const CLI = join(HERE, '..', '..', 'src', 'cli.js');
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Fenced ```json blocks that are whole configs (they have "carriers" and "routes" at the top): the ones a reader copies. */
function wholeConfigs(page: string): string[] {
  const blocks = [...page.matchAll(/^( *)```json\n([\s\S]*?)^\1```/gm)].map((m) => (m[2] ?? '').replace(new RegExp(`^${m[1] ?? ''}`, 'gm'), ''));
  return blocks.filter((b) => {
    try {
      const v: unknown = JSON.parse(b);
      return typeof v === 'object' && v !== null && 'carriers' in v && 'routes' in v;
    } catch {
      return false;
    }
  });
}

test('every whole config shown in the README and docs/ passes check-config as printed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fa-doc-json-'));
  try {
    let n = 0;
    for (const path of PAGES) {
      for (const [i, json] of wholeConfigs(readFileSync(join(ROOT, path), 'utf8')).entries()) {
        const file = join(dir, `c${n++}.json`);
        writeFileSync(file, json);
        const r = spawnSync(process.execPath, [CLI, 'check-config', file], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });
        assert.equal(r.status, 0, `${path} config #${i + 1}: ${r.stdout}${r.stderr}`);
      }
    }
    assert.ok(n >= 1, 'the README shows at least the five-minute setup config');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
