import { parseArgs } from 'node:util';
import { Writable } from 'node:stream';
import { loadavg } from 'node:os';
import { createLogger } from '../../src/log.js';
import { migrate } from '../../src/store/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { benchConfig } from './bench-config.js';
import { holdCalls } from './sections/held-calls.js';
import { printHeld } from './report/print-sections.js';
import type { HeapStats } from './servers/bench-server.js';
import { DaemonProcess } from './servers/daemon-process.js';

/**
 * `npm run bench:held -- [--calls N] [--db on|off] [--snapshot DIR]`: the held-call section of the full bench on its
 * own, for whoever works on memory per call. The daemon runs with --expose-gc so its heap is read after a full
 * collection, idle and while the calls are held; the difference over the calls is the heap each held call keeps.
 * --snapshot writes heap snapshots of the daemon idle and while held (open it in Chrome DevTools). Prints; asserts nothing.
 */

const HELP = 'usage: bench:held [--calls N=10000] [--db on|off=off] [--snapshot DIR]';
const { values: a } = parseArgs({
  options: {
    calls: { type: 'string', default: '10000' },
    db: { type: 'string', default: 'off' },
    snapshot: { type: 'string', default: '' },
    help: { type: 'boolean', default: false },
  },
});
if (a.help) {
  console.log(HELP);
  process.exit(0);
}
const calls = Number(a.calls);
const cfg = { ...benchConfig(), heldCalls: calls, probeCalls: Math.min(200, Math.max(20, Math.floor(calls / 50))) };
let db: TestDatabase | null = null;
if (a.db === 'on') {
  db = await createTestDatabase();
  await migrate(db.db, createLogger({ level: 'silent' }, new Writable({ write: (_c, _e, cb) => cb() })));
}
const heaps: Partial<Record<'idle' | 'held', HeapStats>> = {};
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
const loadBefore = load();
try {
  const held = await holdCalls(
    cfg,
    () => DaemonProcess.start({ name: `daemon, db ${a.db} (held)`, db: db?.db ?? null, exposeGc: true }),
    async (d, phase) => {
      heaps[phase] = await d.heap(a.snapshot !== '' ? a.snapshot : undefined);
    },
  );
  printHeld(held);
  const { idle, held: h } = heaps;
  if (idle && h) {
    const mb = (b: number): string => (b / 2 ** 20).toFixed(1);
    const per = (x: number, y: number): string => ((x - y) / held.held / 1024).toFixed(2);
    console.log(`\nafter a full GC${h.collected ? '' : ' (NOT collected: no --expose-gc)'}, idle → ${held.held} held:`);
    console.log(`  heap used  ${mb(idle.heapUsedBytes)} → ${mb(h.heapUsedBytes)} MB, ${per(h.heapUsedBytes, idle.heapUsedBytes)} KB per held call`);
    console.log(`  rss        ${mb(idle.rssBytes)} → ${mb(h.rssBytes)} MB, ${per(h.rssBytes, idle.rssBytes)} KB per held call`);
    console.log(`  external   ${mb(idle.externalBytes)} → ${mb(h.externalBytes)} MB (array buffers ${mb(idle.arrayBuffersBytes)} → ${mb(h.arrayBuffersBytes)})`);
    if (h.snapshot) console.log(`  heap snapshots: idle ${a.snapshot}/${idle.snapshot ?? ''}, held ${a.snapshot}/${h.snapshot}`);
  }
  console.log(`load average at start ${loadBefore}, at end ${load()}`);
} finally {
  await db?.drop();
}
