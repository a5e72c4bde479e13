/**
 * Timing figures read from a packet capture of the AGI port (`tcpdump -i lo -w FILE tcp port N`): the kernel stamps
 * each segment as it crosses loopback, in the sender's context, so a gap between Asterisk's segment and the daemon's
 * next one is the daemon's own time (its wake-up, its work, its write), with neither Asterisk's logging nor its
 * wake-up from poll() in it. Asterisk's AGI debug log (agi-timing.ts) stamps a line before its write and after its
 * read, so its Tx → Rx gaps also hold Asterisk's own scheduling; both are printed, and this one is the daemon's.
 *
 * Reads the classic pcap format (tcpdump's default): Ethernet (what `-i lo` gives on Linux), Linux cooked v1/v2
 * (`-i any`) and BSD loopback link types, IPv4 and IPv6, TCP only.
 */

export interface Segment {
  /** µs since the epoch. */
  readonly t: number;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: string;
  /** A SYN without ACK: a connection opens (a port can come back for a later connection). */
  readonly opens: boolean;
}

/** The TCP segments with a payload, and each connection's SYN, in capture order. Throws on a file that is not classic pcap. */
export function readPcap(buf: Buffer): Segment[] {
  if (buf.length < 24) throw new Error('not a pcap file: shorter than its global header');
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && buf.readUInt32BE(0) !== 0xa1b2c3d4 && buf.readUInt32BE(0) !== 0xa1b23c4d) throw new Error('not a classic pcap file (pcapng? write it with tcpdump -w)');
  const nano = (le ? magic : buf.readUInt32BE(0)) === 0xa1b23c4d;
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const link = u32(20);
  const out: Segment[] = [];
  for (let o = 24; o + 16 <= buf.length; ) {
    const sec = u32(o);
    const frac = u32(o + 4);
    const len = u32(o + 8);
    const start = o + 16;
    o = start + len;
    if (o > buf.length) break;
    const seg = tcpOf(buf.subarray(start, start + len), link);
    if (seg) out.push({ t: sec * 1_000_000 + (nano ? Math.floor(frac / 1000) : frac), ...seg });
  }
  return out;
}

function tcpOf(p: Buffer, link: number): Omit<Segment, 't'> | null {
  let ip: number;
  let proto: number;
  if (link === 1) {
    ip = 14;
    proto = p.length >= 14 ? p.readUInt16BE(12) : 0;
  } else if (link === 113) {
    ip = 16;
    proto = p.length >= 16 ? p.readUInt16BE(14) : 0;
  } else if (link === 276) {
    ip = 20;
    proto = p.length >= 20 ? p.readUInt16BE(0) : 0;
  } else if (link === 0) {
    ip = 4;
    proto = p.length >= 5 ? ((p[4] ?? 0) >> 4 === 6 ? 0x86dd : 0x0800) : 0;
  } else throw new Error(`pcap link type ${link} is not read here: capture with -i lo`);
  let tcp: number;
  if (proto === 0x0800) {
    if (p.length < ip + 20 || p[ip + 9] !== 6) return null;
    tcp = ip + ((p[ip] ?? 0) & 0x0f) * 4;
  } else if (proto === 0x86dd) {
    if (p.length < ip + 40 || p[ip + 6] !== 6) return null;
    tcp = ip + 40;
  } else return null;
  if (p.length < tcp + 20) return null;
  const data = tcp + ((p[tcp + 12] ?? 0) >> 4) * 4;
  const opens = ((p[tcp + 13] ?? 0) & 0x12) === 0x02;
  if (data >= p.length && !opens) return null;
  return { srcPort: p.readUInt16BE(tcp), dstPort: p.readUInt16BE(tcp + 2), payload: p.subarray(Math.min(data, p.length)).toString('latin1'), opens };
}

export interface WireSession {
  /** Asterisk's end of the connection. */
  readonly asteriskPort: number;
  /** The segment that ended the header block → the daemon's first command segment. */
  readonly headerToFirstCommandMs: number;
  /** The segment that ended the header block → the `EXEC Dial` segment; null when no Dial was sent. */
  readonly headerToDialMs: number | null;
  /** Of headerToDialMs, the daemon's part: the header's end and each reply → its next command. */
  readonly preDialDaemonMs: number | null;
  /** Of headerToDialMs, Asterisk's: each command → its reply. */
  readonly preDialAsteriskMs: number | null;
}

/** µs → ms with three decimals. */
const ms = (us: number): number => us / 1000;

/** One session per connection to `daemonPort` whose header block ended inside the capture. */
export function wireTimings(segments: readonly Segment[], daemonPort: number): WireSession[] {
  // by Asterisk's port, a SYN starting the next connection on it: Linux hands a port out again once its last one closed
  const open = new Map<number, Segment[]>();
  const conns: [number, Segment[]][] = [];
  for (const s of segments) {
    const peer = s.dstPort === daemonPort ? s.srcPort : s.srcPort === daemonPort ? s.dstPort : 0;
    if (peer === 0) continue;
    let list = open.get(peer);
    if (!list || (s.opens && s.dstPort === daemonPort)) {
      open.set(peer, (list = []));
      conns.push([peer, list]);
    }
    if (s.payload !== '') list.push(s);
  }
  return conns.map(([port, list]) => summarize(port, list, daemonPort)).filter((s): s is WireSession => s !== null);
}

function summarize(asteriskPort: number, list: readonly Segment[], daemonPort: number): WireSession | null {
  // the header ends where Asterisk's byte stream first holds an empty line
  let fromAsterisk = '';
  let headerEnd = -1;
  for (let i = 0; i < list.length && headerEnd < 0; i++) {
    const s = list[i] as Segment;
    if (s.dstPort !== daemonPort) continue;
    fromAsterisk += s.payload;
    if (fromAsterisk.startsWith('\n') || fromAsterisk.includes('\n\n')) headerEnd = i;
  }
  if (headerEnd < 0) return null;
  const t0 = (list[headerEnd] as Segment).t;
  let last = t0;
  let daemonUs = 0;
  let asteriskUs = 0;
  let first: number | null = null;
  for (let i = headerEnd + 1; i < list.length; i++) {
    const s = list[i] as Segment;
    const gap = s.t - last;
    if (s.srcPort === daemonPort) {
      daemonUs += gap;
      first ??= s.t;
      if (s.payload.startsWith('EXEC Dial')) {
        return { asteriskPort, headerToFirstCommandMs: ms(first - t0), headerToDialMs: ms(s.t - t0), preDialDaemonMs: ms(daemonUs), preDialAsteriskMs: ms(asteriskUs) };
      }
    } else asteriskUs += gap;
    last = s.t;
  }
  return first === null ? null : { asteriskPort, headerToFirstCommandMs: ms(first - t0), headerToDialMs: null, preDialDaemonMs: null, preDialAsteriskMs: null };
}

export function summarizeWire(sessions: readonly WireSession[], stats: (xs: readonly number[]) => string): string {
  const present = (f: (s: WireSession) => number | null): number[] => sessions.flatMap((s) => {
    const v = f(s);
    return v === null ? [] : [v];
  });
  return [
    'interop AGI timing on the wire (packet capture of the AGI port; kernel stamps, so a gap after Asterisk\'s segment is the daemon\'s own time):',
    `  header→EXEC Dial: ${stats(present((s) => s.headerToDialMs))}`,
    `    the daemon's own part (header→first command and each reply→next command before the Dial): ${stats(present((s) => s.preDialDaemonMs))}`,
    `    of which header→first command: ${stats(present((s) => (s.headerToDialMs === null ? null : s.headerToFirstCommandMs)))}`,
    `    Asterisk's part (each command→its reply before the Dial): ${stats(present((s) => s.preDialAsteriskMs))}`,
  ].join('\n');
}
