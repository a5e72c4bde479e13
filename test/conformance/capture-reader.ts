import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodePythonBytes } from './python-bytes.js';
import { parseArgs } from '../sim/agi-sim.js';

/**
 * Reads the Asterisk captures into data the replay can play back. Parsing is pure (text in, data out);
 * only loadCaptures() touches the file system.
 *
 * Two formats:
 * - single-attempt captures (`captures/*.txt`, Asterisk GIT-20-516d2c60ac): one connection, one Dial, a
 *   `# summary: {...}` Python dict at the end;
 * - multi-attempt captures (`captures/multi/*.txt`, Asterisk 20.20.1): each connection ends with a
 *   `# summary: {json}` line; `<case>.agi.raw` holds the exact bytes on the wire.
 */

/** The variables app_dial resets at the start of every Dial and then sets (app_dial.c:2466-2476; multi/SUMMARY.md). */
export const DIAL_VARIABLES = [
  'DIALSTATUS',
  'DIALEDPEERNAME',
  'DIALEDPEERNUMBER',
  'DIALEDTIME',
  'DIALEDTIME_MS',
  'ANSWEREDTIME',
  'ANSWEREDTIME_MS',
  'RINGTIME',
  'RINGTIME_MS',
  'PROGRESSTIME',
  'PROGRESSTIME_MS',
] as const;

export interface LegCause {
  readonly tech: string;
  readonly ast: string;
}

export interface CapturedAttempt {
  /** The capture's own attempt number (1-based, per connection). */
  readonly attempt: number;
  readonly label: string;
  /** The probe forced this Dial after a daemon would have stopped (label `EXTRA: …`): never the daemon's to place. */
  readonly extra: boolean;
  /** The Dial data exactly as the probe sent it (`EXEC Dial "<this>"`). */
  readonly dial: string;
  /** `200 result=0` or `200 result=-1`. */
  readonly dialReply: string;
  readonly dialSeconds: number;
  /** A `HANGUP` line came between the Dial's reply and the reply to the next command. */
  readonly hangupAfterDial: boolean;
  /** The Dial variables after this Dial, every one set (possibly to ""). */
  readonly vars: Readonly<Record<string, string>>;
  /** The built-in `${HANGUPCAUSE}` after this Dial. */
  readonly hangupCause: number;
  /** HANGUPCAUSE_KEYS() after this Dial, in Asterisk's container order, with each key's tech/ast. */
  readonly keys: readonly string[];
  readonly perKey: ReadonlyMap<string, LegCause>;
}

export interface CapturedConnection {
  /** 1-based. */
  readonly index: number;
  /** The AGI header block, blank line included, exactly as Asterisk sent it. */
  readonly header: Buffer;
  readonly headerSource: 'agi.raw' | 'txt';
  /** agi_network_script: what the daemon routes on. */
  readonly script: string;
  /** agi_extension: the number the daemon dials (the header has no agi_arg_1 in any capture). */
  readonly extension: string;
  readonly attempts: readonly CapturedAttempt[];
  /** Asterisk sent `HANGUP` after the probe's close (res_agi.c:4478-4489; multi/SUMMARY.md fact 13). */
  readonly hangupAfterClose: boolean;
}

export interface CaptureCase {
  readonly name: string;
  /** Path relative to the captures folder, for messages. */
  readonly file: string;
  readonly format: 'single' | 'multi';
  readonly connections: readonly CapturedConnection[];
}

// ---------------------------------------------------------------------------------------------- transcripts

const LINE = /^\+\d+\.\d+ {2}(AST>|AGI>|#)(?: (.*))?$/;

interface TranscriptLine {
  readonly kind: 'AST>' | 'AGI>' | '#';
  readonly text: string;
}

function transcriptLines(text: string): TranscriptLine[] {
  const out: TranscriptLine[] = [];
  for (const raw of text.split('\n')) {
    const m = LINE.exec(raw);
    if (m) out.push({ kind: m[1] as TranscriptLine['kind'], text: m[2] ?? '' });
  }
  return out;
}

/** The `AST>` lines of each connection's header block, rebuilt with `\n` (res_agi sends `\n` only: REFERENCE.md §1.2). */
export function headersFromTranscript(text: string): Buffer[] {
  const headers: Buffer[] = [];
  let cur: string[] | null = null;
  for (const l of transcriptLines(text)) {
    if (l.kind === '#' && /^connection \d+/.test(l.text)) {
      cur = [];
      continue;
    }
    if (cur === null || l.kind !== 'AST>') continue;
    if (l.text === '') {
      headers.push(Buffer.from(`${cur.map((h) => `${h}\n`).join('')}\n`));
      cur = null;
    } else cur.push(l.text);
  }
  return headers;
}

/** The header block of each connection in a `.agi.raw`: the rx bytes from the connection's first chunk to the blank line. */
export function headersFromRaw(raw: string): Buffer[] {
  const headers: Buffer[] = [];
  let pending: Buffer | null = null;
  for (const line of raw.split('\n')) {
    const m = /^\+\d+\.\d+ (rx|tx) (b['"][\s\S]*['"])$/.exec(line);
    if (!m || m[1] !== 'rx') continue;
    const bytes = decodePythonBytes(m[2] as string);
    // a connection opens with launch_netscript's `agi_network: yes` (res_agi.c:2267-2279)
    if (pending === null && bytes.subarray(0, 13).toString('latin1') === 'agi_network: ') pending = Buffer.alloc(0);
    if (pending === null) continue;
    pending = Buffer.concat([pending, bytes]);
    const end = pending.indexOf('\n\n');
    if (end >= 0) {
      headers.push(pending.subarray(0, end + 2));
      pending = null;
    }
  }
  return headers;
}

export function headerField(header: Buffer, name: string): string | undefined {
  for (const line of header.toString('utf8').split('\n')) {
    const i = line.indexOf(': ');
    if (i > 0 && line.slice(0, i) === name) return line.slice(i + 2);
  }
  return undefined;
}

/** `200 result=1 (x)` → `x`; `200 result=0` (unset) → undefined. */
function resultData(reply: string | undefined): string | undefined {
  if (reply === undefined) return undefined;
  const m = /^200 result=1 \((.*)\)$/.exec(reply);
  return m ? m[1] : undefined;
}

// ------------------------------------------------------------------------------------ multi-attempt format

interface MultiAttemptJson {
  attempt: number;
  label: string;
  dial: string;
  dial_reply: string;
  dial_seconds: number;
  fields: Record<string, string>;
  getvariable: Record<string, string>;
  keys: string;
  per_key: Record<string, { tech: string; ast: string }>;
  hangup_lines_during_attempt: string[];
}

interface MultiSummaryJson {
  connection: number;
  attempts: MultiAttemptJson[];
  hangup_lines_before_close?: string[];
  hangup_lines_after_close?: string[];
  /** The first capture's older form: every HANGUP line, during attempts or after the close. */
  hangup_lines?: string[];
}

function multiAttempt(a: MultiAttemptJson): CapturedAttempt {
  const vars: Record<string, string> = {};
  for (const v of DIAL_VARIABLES) vars[v] = a.fields[v] ?? resultData(a.getvariable[v]) ?? '';
  const keys = a.keys === '' ? [] : a.keys.split(',');
  const perKey = new Map<string, LegCause>();
  for (const k of keys) {
    const c = a.per_key[k];
    if (!c) throw new Error(`attempt ${a.attempt}: key ${k} has no per_key entry`);
    perKey.set(k, { tech: c.tech, ast: c.ast });
  }
  return {
    attempt: a.attempt,
    label: a.label,
    extra: a.label.startsWith('EXTRA'),
    dial: a.dial,
    dialReply: a.dial_reply,
    dialSeconds: a.dial_seconds,
    hangupAfterDial: a.hangup_lines_during_attempt.length > 0,
    vars,
    hangupCause: Number(a.fields['HANGUPCAUSE']),
    keys,
    perKey,
  };
}

/** Parses a multi-attempt transcript; `raw` (the `.agi.raw` text) gives the exact header bytes when present. */
export function parseMultiCapture(name: string, file: string, text: string, raw: string | null): CaptureCase {
  const summaries = text
    .split('\n')
    .filter((l) => l.startsWith('# summary: '))
    .map((l) => JSON.parse(l.slice('# summary: '.length)) as MultiSummaryJson);
  const txtHeaders = headersFromTranscript(text);
  const rawHeaders = raw === null ? null : headersFromRaw(raw);
  if (txtHeaders.length !== summaries.length) throw new Error(`${file}: ${txtHeaders.length} header blocks but ${summaries.length} summaries`);
  if (rawHeaders && rawHeaders.length !== summaries.length) throw new Error(`${file}: .agi.raw has ${rawHeaders.length} connections, the transcript ${summaries.length}`);
  const connections = summaries.map((s, i): CapturedConnection => {
    const header = rawHeaders?.[i] ?? (txtHeaders[i] as Buffer);
    const attempts = s.attempts.map(multiAttempt);
    const during = new Set(s.attempts.flatMap((a) => a.hangup_lines_during_attempt));
    const after = s.hangup_lines_after_close ?? (s.hangup_lines ?? []).filter((t) => !during.has(t));
    return {
      index: s.connection,
      header,
      headerSource: rawHeaders ? 'agi.raw' : 'txt',
      script: headerField(header, 'agi_network_script') ?? '',
      extension: headerField(header, 'agi_extension') ?? '',
      attempts,
      hangupAfterClose: after.length > 0,
    };
  });
  return { name, file, format: 'multi', connections };
}

// ----------------------------------------------------------------------------------- single-attempt format

/** The `# summary: {...}` of the first captures: a Python dict of str → str | float | bool. */
export function parsePythonDict(src: string): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  let i = 0;
  const ws = (): void => {
    while (i < src.length && /\s/.test(src[i] as string)) i++;
  };
  const expect = (c: string): void => {
    ws();
    if (src[i] !== c) throw new Error(`expected ${c} at ${i} in ${src.slice(i, i + 20)}`);
    i++;
  };
  const str = (): string => {
    ws();
    const q = src[i];
    if (q !== "'" && q !== '"') throw new Error(`expected a string at ${i}`);
    i++;
    let s = '';
    while (src[i] !== q) {
      if (i >= src.length) throw new Error('unterminated string');
      if (src[i] === '\\') {
        const n = src[i + 1];
        s += n === 'n' ? '\n' : n === 't' ? '\t' : (n ?? '');
        i += 2;
      } else s += src[i++];
    }
    i++;
    return s;
  };
  const value = (): string | number | boolean => {
    ws();
    if (src[i] === "'" || src[i] === '"') return str();
    const m = /^(True|False|-?\d+(?:\.\d+)?)/.exec(src.slice(i));
    if (!m) throw new Error(`unsupported value at ${i}: ${src.slice(i, i + 20)}`);
    i += (m[1] as string).length;
    return m[1] === 'True' ? true : m[1] === 'False' ? false : Number(m[1]);
  };
  expect('{');
  ws();
  while (src[i] !== '}') {
    const k = str();
    expect(':');
    out[k] = value();
    ws();
    if (src[i] === ',') i++;
    ws();
  }
  return out;
}


export function parseSingleCapture(name: string, file: string, text: string): CaptureCase {
  const summaryLine = text.split('\n').find((l) => l.startsWith('# summary: '));
  if (!summaryLine) throw new Error(`${file}: no summary line`);
  const s = parsePythonDict(summaryLine.slice('# summary: '.length));
  const dialLine = transcriptLines(text).find((l) => l.kind === 'AGI>' && /^EXEC Dial /i.test(l.text));
  if (!dialLine) throw new Error(`${file}: no EXEC Dial`);
  const dial = parseArgs(dialLine.text)[2] ?? '';
  const header = headersFromTranscript(text)[0];
  if (!header) throw new Error(`${file}: no header block`);
  const keyList = String(s['HANGUPCAUSE_KEYS'] ?? '');
  const keys = keyList === '' ? [] : keyList.split(',');
  const perKey = new Map<string, LegCause>();
  for (const k of keys) perKey.set(k, { tech: String(s[`HANGUPCAUSE(${k},tech)`] ?? ''), ast: String(s[`HANGUPCAUSE(${k},ast)`] ?? '') });
  const status = String(s['DIALSTATUS']);
  const secs = (v: string): string => (v === '' ? '' : String(Number(v) * 1000));
  const dialed = String(s['DIALEDTIME'] ?? '');
  const answered = String(s['ANSWEREDTIME'] ?? '');
  const vars: Record<string, string> = {
    DIALSTATUS: status,
    DIALEDTIME: dialed,
    ANSWEREDTIME: answered,
    // set_duration_var() (app_dial.c:1253) writes X and X_MS together; these captures read only X, so X_MS is
    // X seconds in ms (the truncated lower bound): no verdict rests on the talk time
    DIALEDTIME_MS: secs(dialed),
    ANSWEREDTIME_MS: secs(answered),
    // these captures did not read RINGTIME/PROGRESSTIME; app_dial.c:2466-2476 resets them at every Dial and only
    // a 180/183 sets them, which these single attempts do not tell: "" is what a Dial without them leaves
    RINGTIME: '',
    RINGTIME_MS: '',
    PROGRESSTIME: '',
    PROGRESSTIME_MS: '',
    DIALEDPEERNUMBER: String(s['DIALEDPEERNUMBER'] ?? ''),
    // non-empty only after an answer, the answering leg's channel (multi/SUMMARY.md, variables table)
    DIALEDPEERNAME: status === 'ANSWER' ? (keys[0] ?? '') : '',
  };
  const attempt: CapturedAttempt = {
    attempt: 1,
    label: '',
    extra: false,
    dial,
    dialReply: String(s['dial_result']),
    dialSeconds: Number(s['dial_seconds']),
    hangupAfterDial: s['HANGUP_line_seen'] === true,
    vars,
    hangupCause: Number(s['HANGUPCAUSE']),
    keys,
    perKey,
  };
  return {
    name,
    file,
    format: 'single',
    connections: [
      {
        index: 1,
        header,
        headerSource: 'txt',
        script: headerField(header, 'agi_network_script') ?? '',
        extension: headerField(header, 'agi_extension') ?? '',
        attempts: [attempt],
        // these captures closed the socket outright, so the last HANGUP was not seen; run_agi() sends it on every
        // exit when AGISIGHUP is on (res_agi.c:4478-4489), as every 20.20.1 capture shows (fact 13)
        hangupAfterClose: true,
      },
    ],
  };
}

// ------------------------------------------------------------------------------------------- file system

/** Every AGI capture: `dir/*.txt` with a Python-dict summary and `dir/multi/*.txt` with JSON summaries. */
export function loadCaptures(dir: string): CaptureCase[] {
  const out: CaptureCase[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.txt')) continue;
    const text = readFileSync(join(dir, f), 'utf8');
    if (!text.includes("\n# summary: {'")) continue;
    out.push(parseSingleCapture(f.slice(0, -4), f, text));
  }
  const multi = join(dir, 'multi');
  for (const f of readdirSync(multi).sort()) {
    if (!f.endsWith('.txt')) continue;
    const text = readFileSync(join(multi, f), 'utf8');
    if (!text.includes('\n# summary: {"')) continue;
    const name = f.slice(0, -4);
    const rawPath = join(multi, `${name}.agi.raw`);
    const raw = existsSync(rawPath) ? readFileSync(rawPath, 'utf8') : null;
    out.push(parseMultiCapture(name, `multi/${f}`, text, raw));
  }
  return out;
}
