import { closeSync, existsSync, fsync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { StoreItem } from './rows.js';

/** Bytes read from a spool at a time: replay memory is this plus one batch of records, whatever the file's size. */
const CHUNK = 1 << 20;
/** A "line" longer than this without a newline is garbage (no record is near it): skipped, never buffered whole. */
const MAX_LINE = 16 << 20;

/** A batch read from the replay file; end is the file offset just past its last line. */
export interface ReplayBatch {
  readonly items: StoreItem[];
  /** Lines that did not parse (cut short by a crash mid-write). */
  readonly bad: number;
  readonly end: number;
  /** Nothing left after this batch. */
  readonly last: boolean;
}

/** Reads a file of JSON lines from an offset in bounded chunks. */
class LineReader {
  private buf: Buffer = Buffer.alloc(0);
  /** File offset of buf[0]. */
  private at: number;
  private off = 0;
  private eof = false;
  private skipping = false;

  constructor(
    private readonly fd: number,
    from: number,
  ) {
    this.at = from;
  }

  next(max: number): ReplayBatch {
    const items: StoreItem[] = [];
    let bad = 0;
    while (items.length < max) {
      const nl = this.buf.indexOf(10, this.off);
      if (nl >= 0) {
        if (this.skipping) {
          this.skipping = false;
          bad++;
        } else if (nl > this.off) {
          try {
            items.push(JSON.parse(this.buf.toString('utf8', this.off, nl)) as StoreItem);
          } catch {
            bad++;
          }
        }
        this.off = nl + 1;
        continue;
      }
      if (this.eof) {
        // a last line without its newline was cut short by a crash: the file is no longer written to
        if (this.off < this.buf.length || this.skipping) bad++;
        this.at += this.buf.length;
        this.buf = Buffer.alloc(0);
        this.off = 0;
        this.skipping = false;
        break;
      }
      const chunk = Buffer.allocUnsafe(CHUNK);
      const n = readSync(this.fd, chunk, 0, CHUNK, this.at + this.buf.length);
      if (n === 0) {
        this.eof = true;
        continue;
      }
      const rest = this.buf.subarray(this.off);
      if (rest.length > MAX_LINE) this.skipping = true;
      const keep = this.skipping ? Buffer.alloc(0) : rest;
      this.at += this.buf.length - keep.length;
      this.buf = keep.length === 0 ? chunk.subarray(0, n) : Buffer.concat([keep, chunk.subarray(0, n)]);
      this.off = 0;
    }
    return { items, bad, end: this.at + this.off, last: this.eof && this.off >= this.buf.length };
  }
}

/**
 * An append-only file of records (the spool, the journal, the JSONL log), one JSON record per line. Appends are
 * synchronous writes (a SIGKILL loses nothing already appended: the page cache holds it), fsync'd on a timer (in the thread pool)
 * against power loss; an append the disk refuses is cut back off, so a half-written line never glues itself to
 * the next one. Records can also be deferred and written together (group commit: the journal writes once per
 * event-loop turn, not once per record). Replay takes the file away whole (rename), so records appended during a replay land in a fresh
 * file, and reads it in bounded chunks from the offset of the last batch the database took (kept in a side file,
 * so a restart resumes there): memory stays flat whatever the spool's size.
 */
export class Spool {
  private fd: number | null = null;
  private dirty = false;
  /** Bytes in the live file. */
  private live = 0;
  /** Bytes of the replay file not yet in the database. */
  private replayLeft = 0;
  private reader: LineReader | null = null;
  private readerFd: number | null = null;
  /** Records deferred to the next writeDeferred(): serialised only then, or never when dropDeferred() says they are safe. */
  private deferred: StoreItem[] = [];
  /** An fsync of fd is running in the thread pool. */
  private syncing = false;

  constructor(
    readonly dir: string,
    readonly name = 'spool.jsonl',
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.live = this.sizeOf(this.path);
    this.replayLeft = Math.max(0, this.sizeOf(this.replayPath) - this.replayedUpTo());
  }

  get path(): string {
    return join(this.dir, this.name);
  }

  get replayPath(): string {
    return join(this.dir, `${this.name}.replaying`);
  }

  /** Where the replay file's records are known to be in the database. */
  get positionPath(): string {
    return join(this.dir, `${this.name}.replaying.pos`);
  }

  /** Bytes waiting in the spool (live file plus what is left of the one being replayed). */
  get size(): number {
    return this.live + this.replayLeft;
  }

  append(items: readonly StoreItem[]): void {
    if (items.length === 0) return;
    this.write(Buffer.from(items.map((i) => JSON.stringify(i)).join('\n') + '\n'));
  }

  /** Keeps a record for the next writeDeferred(); the caller schedules it. */
  defer(item: StoreItem): void {
    this.deferred.push(item);
  }

  get deferredCount(): number {
    return this.deferred.length;
  }

  /** Writes every deferred record in one append. On a disk error they are not kept here (the caller still holds them). */
  writeDeferred(): void {
    if (this.deferred.length === 0) return;
    const items = this.deferred;
    this.deferred = [];
    this.append(items);
  }

  /** The deferred records are safe elsewhere (the database or the spool took them): they need no writing. */
  dropDeferred(): void {
    this.deferred = [];
  }

  private write(data: Buffer): void {
    this.fd ??= openSync(this.path, 'a', 0o600);
    const before = this.live;
    let done = 0;
    try {
      while (done < data.length) done += writeSync(this.fd, data, done);
    } catch (err) {
      // ENOSPC after a partial write: cut the fragment off; if even that fails the next replay counts one bad line
      if (done > 0) {
        try {
          ftruncateSync(this.fd, before);
        } catch {
          /* reported by the caller's error */
        }
      }
      throw err;
    }
    this.live += data.length;
    this.dirty = true;
  }

  /** Everything appended so far is safe elsewhere (database or spool): start the file again. */
  truncate(): void {
    if (this.live === 0) return;
    this.fd ??= openSync(this.path, 'a', 0o600);
    ftruncateSync(this.fd, 0);
    this.live = 0;
  }

  /** Moves another file's records (a journal left by a crash) to the end of this one, chunk by chunk, then empties it. */
  absorb(other: Spool): number {
    let src: number;
    try {
      src = openSync(other.path, 'r');
    } catch {
      return 0;
    }
    let lines = 0;
    let last = 10;
    try {
      const chunk = Buffer.allocUnsafe(CHUNK);
      for (let pos = 0; ; ) {
        const n = readSync(src, chunk, 0, CHUNK, pos);
        if (n === 0) break;
        pos += n;
        const part = chunk.subarray(0, n);
        for (let i = part.indexOf(10); i >= 0; i = part.indexOf(10, i + 1)) lines++;
        last = part[n - 1] ?? 10;
        this.write(Buffer.from(part));
      }
      // a line cut short by the crash stays cut short; replay skips it and counts it
      if (last !== 10) {
        this.write(Buffer.from('\n'));
        lines++;
      }
    } finally {
      closeSync(src);
    }
    if (this.fd !== null) fsyncSync(this.fd);
    other.closeFd();
    rmSync(other.path, { force: true });
    other.live = 0;
    return lines;
  }

  sync(): void {
    if (this.fd !== null && this.dirty) {
      fsyncSync(this.fd);
      this.dirty = false;
    }
  }

  /**
   * The timer's fsync, in the thread pool: a slow disk's fsync never stalls the event loop. What it covers is what
   * was written when it started; a write after that stays dirty for the next one. Errors go to onError, except one
   * from an fd closed meanwhile (closing fsyncs synchronously first).
   */
  syncInBackground(onError: (err: Error) => void): void {
    const fd = this.fd;
    if (fd === null || !this.dirty || this.syncing) return;
    this.dirty = false;
    this.syncing = true;
    fsync(fd, (err) => {
      this.syncing = false;
      if (err && this.fd === fd) {
        this.dirty = true;
        onError(err);
      }
    });
  }

  /**
   * Opens the replay file (moving the live file aside unless one is left from a crash or an interrupted replay),
   * resuming after the last batch the database took. False when there is nothing to replay.
   */
  openReplay(): boolean {
    if (this.reader) return true;
    if (!existsSync(this.replayPath)) {
      if (this.sizeOf(this.path) === 0) return false;
      this.closeFd();
      renameSync(this.path, this.replayPath);
      rmSync(this.positionPath, { force: true });
      this.replayLeft = this.live;
      this.live = 0;
    }
    this.readerFd = openSync(this.replayPath, 'r');
    const from = this.replayedUpTo();
    this.replayLeft = Math.max(0, this.sizeOf(this.replayPath) - from);
    this.reader = new LineReader(this.readerFd, from);
    return true;
  }

  /** Up to max records of the open replay file. */
  readReplay(max: number): ReplayBatch {
    if (!this.reader) throw new Error('no replay open');
    return this.reader.next(max);
  }

  /** The records up to end are in the database: a restart resumes after them. */
  replayedTo(end: number): void {
    writeFileSync(this.positionPath, String(end));
    this.replayLeft = Math.max(0, this.sizeOf(this.replayPath) - end);
  }

  /** Stops reading (the database went away, or shutdown); the next openReplay resumes at the last position. */
  pauseReplay(): void {
    if (this.readerFd !== null) closeSync(this.readerFd);
    this.readerFd = null;
    this.reader = null;
  }

  /** The whole replay file is in the database: drop it. */
  doneReplay(): void {
    this.pauseReplay();
    rmSync(this.replayPath, { force: true });
    rmSync(this.positionPath, { force: true });
    this.replayLeft = 0;
  }

  hasPending(): boolean {
    return this.sizeOf(this.path) > 0 || existsSync(this.replayPath);
  }

  close(): void {
    this.pauseReplay();
    this.closeFd();
  }

  private replayedUpTo(): number {
    try {
      const n = Number(readFileSync(this.positionPath, 'utf8').trim());
      return Number.isSafeInteger(n) && n > 0 ? n : 0;
    } catch {
      return 0;
    }
  }

  private closeFd(): void {
    if (this.fd !== null) {
      // a background fsync may not finish before the close: this one covers everything written
      if (this.syncing) this.dirty = true;
      this.sync();
      closeSync(this.fd);
      this.fd = null;
    }
  }

  private sizeOf(p: string): number {
    try {
      return statSync(p).size;
    } catch {
      return 0;
    }
  }
}
