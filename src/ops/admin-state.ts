import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** An operator's hand on a carrier: survives restarts until enabled again (or until `until` passes). */
export interface AdminEntry {
  readonly mode: 'drain' | 'force-down';
  /** Epoch ms when a force-down ends by itself; null = until `enable`. */
  readonly until: number | null;
  readonly at: number;
  readonly reason: string;
}

export type AdminState = Record<string, AdminEntry>;

export function loadAdminState(file: string, now: number): AdminState {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
  const out: AdminState = {};
  if (typeof raw !== 'object' || raw === null) return out;
  for (const [carrier, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v !== 'object' || v === null) continue;
    const e = v as Record<string, unknown>;
    const mode = e['mode'];
    const until = typeof e['until'] === 'number' ? e['until'] : null;
    if ((mode === 'drain' || mode === 'force-down') && (until === null || until > now)) {
      out[carrier] = { mode, until, at: typeof e['at'] === 'number' ? e['at'] : now, reason: typeof e['reason'] === 'string' ? e['reason'] : '' };
    }
  }
  return out;
}

/** Write-then-rename, so a crash mid-write never leaves half a file. */
export function saveAdminState(file: string, state: AdminState): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o640 });
  renameSync(tmp, file);
}
