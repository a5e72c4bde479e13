/**
 * Links and headings of our Markdown pages, read the way GitHub renders them, so a moved section cannot leave a
 * dead link behind.
 */

/** GitHub's heading anchor: lowercase, punctuation dropped except '-' and '_', each space a '-'. */
export function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Fenced code blocks and inline code spans blanked out (their brackets are not links). */
function prose(markdown: string): string {
  const lines: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      lines.push('');
      continue;
    }
    lines.push(fenced ? '' : line.replace(/`[^`]*`/g, ''));
  }
  return lines.join('\n');
}

/** Every anchor a page's headings produce; a repeated heading gets -1, -2 … as on GitHub. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = githubSlug(m[1] ?? '');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Targets of `[text](target)` and `<img src="target">` in prose, external ones included. */
export function linkTargets(markdown: string): string[] {
  const text = prose(markdown);
  const out: string[] = [];
  for (const m of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) out.push(m[1] ?? '');
  for (const m of text.matchAll(/<img\s[^>]*src="([^"]+)"/g)) out.push(m[1] ?? '');
  return out;
}

export interface LinkProblem {
  readonly target: string;
  readonly problem: string;
}

/**
 * What is wrong with each relative link of a page: `readPage(path)` returns a page's text (null if there is no
 * such file), with paths relative to the repository root; `page` is the linking page's own path.
 */
export function brokenLinks(page: string, markdown: string, readPage: (path: string) => string | null): LinkProblem[] {
  const problems: LinkProblem[] = [];
  const dir = page.includes('/') ? page.slice(0, page.lastIndexOf('/')) : '';
  for (const target of linkTargets(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
    const hash = target.indexOf('#');
    const file = hash >= 0 ? target.slice(0, hash) : target;
    const anchor = hash >= 0 ? target.slice(hash + 1) : '';
    const path = file === '' ? page : normalise(dir === '' ? file : `${dir}/${file}`);
    if (path === null) {
      problems.push({ target, problem: 'leaves the repository' });
      continue;
    }
    const text = readPage(path);
    if (text === null) {
      problems.push({ target, problem: `no file ${path}` });
      continue;
    }
    if (anchor === '') continue;
    if (!path.endsWith('.md')) problems.push({ target, problem: `#${anchor} on a file that is not Markdown` });
    else if (!anchors(text).has(anchor)) problems.push({ target, problem: `no heading with anchor #${anchor} in ${path}` });
  }
  return problems;
}

function normalise(path: string): string | null {
  const parts: string[] = [];
  for (const p of path.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (parts.length === 0) return null;
      parts.pop();
    } else parts.push(p);
  }
  return parts.join('/');
}
