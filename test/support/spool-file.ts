import { closeSync, openSync, writeSync } from 'node:fs';
import { attemptRecord } from './records.js';

/**
 * Writes a spool file directly, in the spool's format (one `{"t":"a","r":<AttemptRecord>}` per line), fast.
 * Each line carries a `pad` member the store ignores (JSON.parse keeps it, the INSERT never reads it): the bytes
 * are what make a spool big, and padding reaches half a gigabyte with a row count a test can insert in seconds.
 * Returns the number of records written.
 */
export function writeSpoolFile(path: string, opts: { bytes: number; prefix: string; lineBytes?: number }): number {
  const template = JSON.stringify({ t: 'a', r: attemptRecord({ uniqueid: '@@ID@@', runId: `${opts.prefix}-run`, startedAt: Date.now() - 2000, endedAt: Date.now() - 1000 }) });
  const [head, tail] = template.split('@@ID@@') as [string, string];
  const base = head.length + tail.length + 32;
  const pad = ',"pad":"' + 'x'.repeat(Math.max(0, (opts.lineBytes ?? 4096) - base)) + '"}';
  const fd = openSync(path, 'a', 0o640);
  let n = 0;
  let written = 0;
  try {
    while (written < opts.bytes) {
      const lines: string[] = [];
      for (let k = 0; k < 2000; k++) lines.push(`${head}${opts.prefix}.${n++}${tail.slice(0, -1)}${pad}`);
      const buf = Buffer.from(lines.join('\n') + '\n');
      for (let done = 0; done < buf.length; ) done += writeSync(fd, buf, done);
      written += buf.length;
    }
  } finally {
    closeSync(fd);
  }
  return n;
}
