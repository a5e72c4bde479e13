/**
 * Timing figures read from Asterisk's own log with `agi set debug on`: what the daemon costs as Asterisk sees it,
 * on the wire, not as the daemon measures itself. The lab's logger.conf asks for microseconds (`%6q`,
 * main/stdtime/localtime.c ast_strftime_locale); the captures' logs have milliseconds, and both parse.
 * Line shape (multi/*.asterisk.log): `[2026-12-01 19:19:54.146] VERBOSE[15474][C-00000004] res_agi.c: <chan>AGI Tx >> agi_request: …`;
 * the first header lines carry no `<chan>`, so sessions are keyed by the channel thread id.
 *
 * Where each stamp is taken (res_agi.c, 20.20.1): `Tx >>` is logged by ast_agi_send() just before its write
 * (:1664-1671), `Rx <<` after the line was read and before the command runs (:4453-4455). So a Tx → next Rx gap is
 * the daemon's (its turnaround, loopback TCP and Asterisk's wake-up from poll() included) and an Rx → Tx gap is
 * Asterisk's (running the command).
 */

const LINE = /^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{3,6})\] VERBOSE\[(\d+)\][^ ]* res_agi\.c: (?:<[^>]*>)?AGI (Tx >>|Rx <<) ?(.*)$/;

export interface AgiSession {
  readonly channelThread: string;
  readonly uniqueid: string;
  /** Last header line (the empty one) → the daemon's first command. */
  readonly headerToFirstCommandMs: number;
  /** Last header line → the first `EXEC Dial`. */
  readonly headerToDialMs: number | null;
  /** The commands before the first `EXEC Dial`, as Asterisk read them. */
  readonly preDialCommands: string[];
  /** Of headerToDialMs, the daemon's part: every Tx → next Rx gap before the Dial (the header's end included). */
  readonly preDialDaemonMs: number | null;
  /** Of headerToDialMs, Asterisk's part: every Rx → Tx gap (running the commands before the Dial). */
  readonly preDialAsteriskMs: number | null;
  /** Each reply Asterisk sent → the daemon's next command (its turnaround, TCP on loopback included). */
  readonly turnaroundsMs: number[];
  /** Each command Asterisk read → its reply, per command verb (`GET FULL VARIABLE`, `EXEC HangupCauseClear`, …); Dial left out. */
  readonly asteriskMs: [string, number][];
  /** Reply to one Dial → the next `EXEC Dial`: everything the daemon does between two attempts. */
  readonly betweenDialsMs: number[];
  /** Each Dial's own time: `EXEC Dial` read → its reply, in order. */
  readonly dialMs: number[];
  readonly commands: number;
  /** Every command Asterisk read (`tx` false) and every reply it sent (`tx` true) after the header, in order. */
  readonly exchange: readonly { readonly tx: boolean; readonly text: string }[];
  /** WARNING and ERROR lines Asterisk logged on this channel's thread during the session (what the commands made it log). */
  readonly warnings: readonly string[];
}

interface Entry {
  /** µs since the epoch: an integer, so the gaps are exact (ms with a fraction would lose the last digits). */
  readonly t: number;
  readonly tx: boolean;
  readonly text: string;
}

function stampUs(date: string, fraction: string): number {
  return Date.parse(date.replace(' ', 'T')) * 1000 + Number(fraction.padEnd(6, '0'));
}

/** `[…] WARNING[31854][C-00000005] func_hangupcause.c: …`: a complaint on one channel thread. */
const COMPLAINT = /^\[[^\]]*\] (?:WARNING|ERROR)\[(\d+)\]\S* (.*)$/;

export function agiTimings(log: string): AgiSession[] {
  const open = new Map<string, Entry[]>();
  const sessions: Entry[][] = [];
  const thread: string[] = [];
  const complaints = new Map<Entry[], string[]>();
  for (const line of log.split('\n')) {
    const w = COMPLAINT.exec(line);
    const during = w ? open.get(w[1] ?? '') : undefined;
    if (w && during) complaints.set(during, [...(complaints.get(during) ?? []), w[2] ?? '']);
    const m = LINE.exec(line);
    if (!m) continue;
    const [, date, fraction, tid, dir, text] = m as unknown as [string, string, string, string, string, string];
    const t = stampUs(date, fraction);
    if (dir === 'Tx >>' && text.startsWith('agi_network:')) {
      const s: Entry[] = [];
      open.set(tid, s);
      sessions.push(s);
      thread.push(tid);
    }
    open.get(tid)?.push({ t, tx: dir === 'Tx >>', text });
  }
  return sessions.map((s, i) => summarize(thread[i] ?? '', s, complaints.get(s) ?? [])).filter((s): s is AgiSession => s !== null);
}

/** `EXEC Dial "…"` → `EXEC Dial`; `GET FULL VARIABLE "…"` → `GET FULL VARIABLE`; `SET VARIABLE X "…"` → `SET VARIABLE`. */
export function verbOf(command: string): string {
  const words = command.split(' ');
  if (/^exec$/i.test(words[0] ?? '')) return `EXEC ${words[1] ?? ''}`;
  // res_agi.c's command table (:3911-3950): the verb is one to three words, then the arguments
  const known = ['GET FULL VARIABLE', 'GET VARIABLE', 'SET VARIABLE', 'CHANNEL STATUS', 'DATABASE GET', 'DATABASE PUT'];
  const upper = command.toUpperCase();
  return known.find((k) => upper === k || upper.startsWith(`${k} `)) ?? (words[0] ?? '').toUpperCase();
}

/** µs → ms with three decimals. */
const ms = (us: number): number => us / 1000;

function summarize(tid: string, s: Entry[], warnings: readonly string[]): AgiSession | null {
  const headerEnd = s.findIndex((e) => e.tx && e.text === '');
  if (headerEnd < 0) return null;
  const t0 = s[headerEnd]?.t ?? 0;
  const rest = s.slice(headerEnd);
  const first = rest.find((e) => !e.tx);
  if (!first) return null;
  const dialAt = rest.findIndex((e) => !e.tx && e.text.startsWith('EXEC Dial'));
  const dial = dialAt >= 0 ? rest[dialAt] : undefined;
  const turnarounds: number[] = [];
  const asterisk: [string, number][] = [];
  const between: number[] = [];
  const dials: number[] = [];
  let daemonPre = 0;
  let asteriskPre = 0;
  let lastDialReply: number | null = null;
  for (let i = 1; i < rest.length; i++) {
    const prev = rest[i - 1];
    const cur = rest[i];
    if (!prev || !cur) continue;
    const gap = cur.t - prev.t;
    const beforeDial = dialAt >= 0 && i <= dialAt;
    if (prev.tx && !cur.tx) {
      // the header's end → the first command is the daemon's too, but it is not a turnaround
      if (i > 1) turnarounds.push(ms(gap));
      if (beforeDial) daemonPre += gap;
      if (cur.text.startsWith('EXEC Dial') && lastDialReply !== null) between.push(ms(cur.t - lastDialReply));
    } else if (!prev.tx && cur.tx) {
      if (prev.text.startsWith('EXEC Dial')) {
        dials.push(ms(gap));
        lastDialReply = cur.t;
      } else asterisk.push([verbOf(prev.text), ms(gap)]);
      if (beforeDial) asteriskPre += gap;
    }
  }
  const uid = /agi_uniqueid: (\S+)/.exec(s.map((e) => e.text).join('\n'))?.[1] ?? '';
  return {
    channelThread: tid,
    uniqueid: uid,
    headerToFirstCommandMs: ms(first.t - t0),
    headerToDialMs: dial ? ms(dial.t - t0) : null,
    preDialCommands: rest.slice(0, dialAt >= 0 ? dialAt : rest.length).filter((e) => !e.tx).map((e) => e.text),
    preDialDaemonMs: dial ? ms(daemonPre) : null,
    preDialAsteriskMs: dial ? ms(asteriskPre) : null,
    turnaroundsMs: turnarounds,
    asteriskMs: asterisk,
    betweenDialsMs: between,
    dialMs: dials,
    commands: rest.filter((e) => !e.tx).length,
    exchange: rest.slice(1).map((e) => ({ tx: e.tx, text: e.text })),
    warnings,
  };
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : Math.round((((s[mid - 1] as number) + (s[mid] as number)) / 2) * 1000) / 1000;
}

export function stats(xs: readonly number[]): string {
  if (xs.length === 0) return 'n/a';
  const s = [...xs].sort((a, b) => a - b);
  const pct = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `n=${s.length} min=${s[0]} median=${median(s)} p95=${pct(0.95)} max=${s[s.length - 1]} ms`;
}

export function summarizeTimings(sessions: readonly AgiSession[]): string {
  const lines = ['interop AGI timing (from Asterisk\'s agi debug log; Tx→Rx gaps are the daemon\'s, Rx→Tx gaps Asterisk\'s):'];
  for (const s of sessions) {
    lines.push(
      `  ${s.uniqueid}: header→first command ${s.headerToFirstCommandMs} ms, header→EXEC Dial ${s.headerToDialMs ?? '-'} ms ` +
        `(daemon ${s.preDialDaemonMs ?? '-'}, Asterisk ${s.preDialAsteriskMs ?? '-'}; before it: ${s.preDialCommands.map(verbOf).join(', ') || 'nothing'}), ` +
        `${s.commands} commands, turnaround max ${Math.max(0, ...s.turnaroundsMs)} ms, Dials [${s.dialMs.join(', ')}] ms, between Dials [${s.betweenDialsMs.join(', ')}] ms`,
    );
  }
  const present = <T>(f: (s: AgiSession) => T | null): T[] => sessions.flatMap((s) => {
    const v = f(s);
    return v === null ? [] : [v];
  });
  lines.push(`  header→EXEC Dial: ${stats(present((s) => s.headerToDialMs))}`);
  lines.push(`    the daemon's part (header→first command and each reply→next command before the Dial): ${stats(present((s) => s.preDialDaemonMs))}`);
  lines.push(`    of which header→first command: ${stats(present((s) => (s.headerToDialMs === null ? null : s.headerToFirstCommandMs)))}`);
  lines.push(`    Asterisk's part (running the commands before the Dial): ${stats(present((s) => s.preDialAsteriskMs))}`);
  lines.push(`  daemon turnaround per command: ${stats(sessions.flatMap((s) => s.turnaroundsMs))}`);
  const verbs = [...new Set(sessions.flatMap((s) => s.asteriskMs.map(([v]) => v)))].sort();
  for (const v of verbs) lines.push(`  Asterisk per ${v}: ${stats(sessions.flatMap((s) => s.asteriskMs.filter(([w]) => w === v).map(([, ms]) => ms)))}`);
  lines.push(`  Dial reply → next EXEC Dial: ${stats(sessions.flatMap((s) => s.betweenDialsMs))}`);
  return lines.join('\n');
}
