import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { migrate } from '../../src/store/migrate.js';
import { startCliDaemon } from '../support/cli-process.js';
import { memoryLog } from '../support/daemon.js';
import { createTestDatabase } from '../support/db.js';
import { writeSpoolFile } from '../support/spool-file.js';

/**
 * `npm run bench:spool`: a spool left by a long database outage, replayed by the real daemon at start into a real
 * MariaDB: rows/s and the daemon's peak RSS. 2 GiB of records of the real size (~600 B a line, as the daemon
 * writes them); BENCH_QUICK=1 uses 20 MiB. Prints figures, asserts nothing about time.
 */
const quick = process.env['BENCH_QUICK'] === '1';
const BYTES = quick ? 20 * 2 ** 20 : 2 * 2 ** 30;

const t = await createTestDatabase();
try {
  await migrate(t.db, memoryLog().log);
  const first = await startCliDaemon({ db: t.db });
  first.kill('SIGTERM');
  await first.exited;
  const spoolDir = join(first.dir, 'spool');
  const file = join(spoolDir, 'spool.jsonl');
  const records = writeSpoolFile(file, { bytes: BYTES, prefix: 'bench', lineBytes: 600 });
  const size = statSync(file).size;
  const started = performance.now();
  const d = await startCliDaemon({ db: t.db, store: { spoolDir } });
  try {
    const done = await d.waitFor((l) => l['msg'] === 'attempt log: database back, spool replayed', 30 * 60_000);
    const seconds = (performance.now() - started) / 1000;
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${d.child.pid}/status`, 'utf8'));
    const peakMiB = hwm ? Number(hwm[1]) / 1024 : NaN;
    console.log(`spool replay: ${(size / 2 ** 20).toFixed(0)} MiB, ${records} records, replayed ${String(done['replayed'])} in ${seconds.toFixed(1)} s`);
    console.log(`  ${Math.round(records / seconds)} rows/s into MariaDB, daemon peak RSS ${peakMiB.toFixed(0)} MiB`);
  } finally {
    d.kill('SIGTERM');
    await d.exited;
    rmSync(spoolDir, { recursive: true, force: true });
  }
} finally {
  await t.drop();
}
