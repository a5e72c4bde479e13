import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { StoreItem } from './rows.js';

/**
 * An append-only file of records (the spool, the journal, the JSONL log), one JSON record per line. Appends are
 * synchronous writes (a SIGKILL loses nothing already appended: the page cache holds it), fsync'd on a timer
 * against power loss. Replay takes the file away whole (rename), so records appended during a replay land in a
 * fresh file and are never lost.
 */
export class Spool {
  private fd: number | null = null;
  private dirty = false;
  private bytes = 0;

  constructor(
    readonly dir: string,
    readonly name = 'spool.jsonl',
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    this.bytes = this.sizeOf(this.path) + this.sizeOf(this.replayPath);
  }

  get path(): string {
    return join(this.dir, this.name);
  }

  get replayPath(): string {
    return join(this.dir, `${this.name}.replaying`);
  }

  /** Bytes waiting in the spool (live file plus one being replayed). */
  get size(): number {
    return this.bytes;
  }

  append(items: readonly StoreItem[]): void {
    if (items.length === 0) return;
    const text = items.map((i) => JSON.stringify(i)).join('\n') + '\n';
    this.fd ??= openSync(this.path, 'a', 0o640);
    writeSync(this.fd, text);
    this.bytes += Buffer.byteLength(text);
    this.dirty = true;
  }

  /** Everything appended so far is safe elsewhere (database or spool): start the file again. */
  truncate(): void {
    if (this.bytes === 0) return;
    this.fd ??= openSync(this.path, 'a', 0o640);
    ftruncateSync(this.fd, 0);
    this.bytes = 0;
  }

  /** Moves another file's records (a journal left by a crash) to the end of this one, then empties it. */
  absorb(other: Spool): number {
    let text: string;
    try {
      text = readFileSync(other.path, 'utf8');
    } catch {
      return 0;
    }
    if (text.length === 0) return 0;
    // a line cut short by the crash stays cut short; replay skips it and counts it
    if (!text.endsWith('\n')) text += '\n';
    this.fd ??= openSync(this.path, 'a', 0o640);
    writeSync(this.fd, text);
    fsyncSync(this.fd);
    this.bytes += Buffer.byteLength(text);
    other.closeFd();
    rmSync(other.path, { force: true });
    other.bytes = 0;
    return text.split('\n').length - 1;
  }

  sync(): void {
    if (this.fd !== null && this.dirty) {
      fsyncSync(this.fd);
      this.dirty = false;
    }
  }

  /** Moves the live file aside for replay (unless a replay file is already there from a crash) and returns its records. */
  takeForReplay(): { items: StoreItem[]; bad: number } {
    if (!existsSync(this.replayPath)) {
      if (!existsSync(this.path)) return { items: [], bad: 0 };
      this.closeFd();
      renameSync(this.path, this.replayPath);
    }
    let bad = 0;
    const items: StoreItem[] = [];
    for (const line of readFileSync(this.replayPath, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        items.push(JSON.parse(line) as StoreItem);
      } catch {
        bad++; // a line cut short by a crash mid-write
      }
    }
    return { items, bad };
  }

  /** The replayed records are in the database: drop the replay file. */
  doneReplay(): void {
    rmSync(this.replayPath, { force: true });
    this.bytes = this.sizeOf(this.path);
  }

  hasPending(): boolean {
    return this.sizeOf(this.path) > 0 || existsSync(this.replayPath);
  }

  close(): void {
    this.closeFd();
  }

  private closeFd(): void {
    if (this.fd !== null) {
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
