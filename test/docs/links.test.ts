import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { anchors, brokenLinks, githubSlug, linkTargets } from './markdown-links.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];

function readPage(path: string): string | null {
  const full = join(ROOT, path);
  if (!existsSync(full)) return null;
  return statSync(full).isDirectory() ? '' : readFileSync(full, 'utf8');
}

test('GitHub anchors: lowercase, punctuation dropped, spaces to -, repeats numbered', () => {
  assert.equal(githubSlug('The attempt log (MySQL/MariaDB)'), 'the-attempt-log-mysqlmariadb');
  assert.equal(githubSlug('How records reach the database, and what a failure can lose'), 'how-records-reach-the-database-and-what-a-failure-can-lose');
  assert.equal(githubSlug('`agi.*` keys_and-more'), 'agi-keys_and-more');
  assert.deepEqual([...anchors('# A\n## B\n```\n# not a heading\n```\n## B\n')], ['a', 'b', 'b-1']);
});

test('links inside code are not links; a dead file or anchor is reported', () => {
  const page = 'See [x](other.md#there), `[not](a-link.md)`, <img src="pic.png">, [web](https://example.com).\n```\n[no](code.md)\n```\n';
  assert.deepEqual(linkTargets(page), ['other.md#there', 'https://example.com', 'pic.png']);
  const files: Record<string, string> = { 'docs/other.md': '# Here\n' };
  assert.deepEqual(
    brokenLinks('docs/page.md', page, (p) => files[p] ?? null).map((p) => p.problem),
    ['no heading with anchor #there in docs/other.md', 'no file docs/pic.png'],
  );
  assert.deepEqual(brokenLinks('docs/page.md', '[up](../../x.md)', () => ''), [{ target: '../../x.md', problem: 'leaves the repository' }]);
});

for (const page of PAGES) {
  test(`every relative link and #anchor in ${page} resolves`, () => {
    const text = readPage(page) ?? '';
    assert.deepEqual(brokenLinks(page, text, readPage), []);
  });
}

test('the README links every page of docs/', () => {
  const linked = new Set(linkTargets(readPage('README.md') ?? '').map((t) => t.split('#')[0]));
  const missing = PAGES.filter((p) => p !== 'README.md' && !linked.has(p));
  assert.deepEqual(missing, [], 'add these to the README\'s Reference list');
});

test('every docs page starts with a title and a paragraph', () => {
  for (const page of PAGES.filter((p) => p.startsWith('docs/'))) {
    const lines = (readPage(page) ?? '').split('\n');
    assert.match(lines[0] ?? '', /^# \S/, `${page} starts with its # title`);
    assert.equal(lines[1], '', page);
    assert.match(lines[2] ?? '', /^(?!#|\||```|- )\S/, `${page}: a paragraph follows the title`);
  }
});
