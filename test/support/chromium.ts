import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The first Chromium on PATH (Debian's `chromium` package, or a Chrome), or null: the browser tests skip then. */
export function findChromium(): string | null {
  const names = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    for (const n of names) {
      const p = join(dir, n);
      try {
        accessSync(p, constants.X_OK);
        return p;
      } catch {
        // not here
      }
    }
  }
  return null;
}

export interface Viewport {
  readonly width: number;
  readonly height: number;
}

/**
 * One headless run with a throw-away profile. `--no-sandbox` because CI runs as root, where Chromium refuses its
 * sandbox; the pages loaded are our own daemon's.
 */
function run(bin: string, args: readonly string[], viewport: Viewport): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'fa-chromium-'));
  const all = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--no-first-run',
    '--hide-scrollbars',
    '--disable-extensions',
    `--user-data-dir=${profile}`,
    `--window-size=${viewport.width},${viewport.height}`,
    ...args,
  ];
  return new Promise((resolve, reject) => {
    execFile(bin, all, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if (err) reject(new Error(`${bin} ${all.join(' ')} failed: ${err.message}\n${stderr.slice(-2000)}`));
      else if (args.includes('--dump-dom') && !stdout.trim()) reject(new Error(`${bin} dumped nothing for ${args.join(' ')}\n${stderr.slice(-2000)}`));
      else resolve(stdout);
    });
  });
}

/** The DOM after the browser parsed and laid out the page, serialised (`--dump-dom`). */
export function dumpDom(bin: string, url: string, viewport: Viewport = { width: 1280, height: 900 }): Promise<string> {
  return run(bin, ['--dump-dom', url], viewport);
}

export async function screenshot(bin: string, url: string, file: string, viewport: Viewport): Promise<void> {
  await run(bin, [`--screenshot=${file}`, url], viewport);
}

/** Width and height from a PNG's IHDR chunk. */
export function pngSize(png: Buffer): Viewport {
  if (png.length < 24 || png.toString('latin1', 1, 4) !== 'PNG') throw new Error('not a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
