import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stats } from './agi-timing.js';
import { readPcap, summarizeWire, wireTimings } from './packet-timing.js';

/**
 * The wire figures are only as right as this reader: a classic pcap built here, byte for byte as tcpdump writes one
 * of `-i lo` (Ethernet link type, IPv4, TCP with a 32-byte header as Linux sends it with timestamps). Runs without a lab.
 */
const DAEMON = 4573;
const ASTERISK = 40112;

function packet(tUs: number, from: number, to: number, payload: string, flags = 0x18): Buffer {
  const data = Buffer.from(payload, 'latin1');
  const tcp = Buffer.alloc(32);
  tcp.writeUInt16BE(from, 0);
  tcp.writeUInt16BE(to, 2);
  tcp[12] = 8 << 4;
  tcp[13] = flags;
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip[9] = 6;
  ip.writeUInt16BE(20 + 32 + data.length, 2);
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  const frame = Buffer.concat([eth, ip, tcp, data]);
  const rec = Buffer.alloc(16);
  rec.writeUInt32LE(Math.floor(tUs / 1e6), 0);
  rec.writeUInt32LE(tUs % 1e6, 4);
  rec.writeUInt32LE(frame.length, 8);
  rec.writeUInt32LE(frame.length, 12);
  return Buffer.concat([rec, frame]);
}

function pcap(...packets: Buffer[]): Buffer {
  const g = Buffer.alloc(24);
  g.writeUInt32LE(0xa1b2c3d4, 0);
  g.writeUInt16LE(2, 4);
  g.writeUInt16LE(4, 6);
  g.writeUInt32LE(262144, 16);
  g.writeUInt32LE(1, 20);
  return Buffer.concat([g, ...packets]);
}

const T0 = 1_796_184_091_000_000;
const A = (dt: number, text: string): Buffer => packet(T0 + dt, ASTERISK, DAEMON, text);
const D = (dt: number, text: string): Buffer => packet(T0 + dt, DAEMON, ASTERISK, text);

describe('interop AGI timing: a packet capture of the AGI port read back', () => {
  test('the header in two segments, one read, then the Dial: the daemon\'s gaps and Asterisk\'s, to the microsecond', () => {
    const file = pcap(
      A(0, 'agi_network: yes\nagi_request: agi://127.0.0.1/outbound-failover\n'),
      // an ACK alone has no payload and is no segment of the stream
      packet(T0 + 100, DAEMON, ASTERISK, ''),
      A(470, 'agi_uniqueid: 1796184091.5\n\n'),
      D(1220, 'GET FULL VARIABLE "${HANGUPCAUSE}|${SET(FAILOVER_STATUS=DIALING)}|${HANGUPCAUSE_KEYS()}"\n'),
      A(1330, '200 result=1 (0|DIALING|)\n'),
      D(1790, 'EXEC Dial "SIP/15552345678@carrier-c486,20^5,T"\n'),
      A(9000, '200 result=0\n'),
    );
    const segs = readPcap(file);
    assert.equal(segs.length, 6);
    assert.equal(segs[0]?.t, T0);
    const [s, ...more] = wireTimings(segs, DAEMON);
    assert.equal(more.length, 0);
    assert.deepEqual(s, { asteriskPort: ASTERISK, headerToFirstCommandMs: 0.75, headerToDialMs: 1.32, preDialDaemonMs: 1.21, preDialAsteriskMs: 0.11 });
    assert.match(summarizeWire([s as NonNullable<typeof s>], stats), /the daemon's own part .*median=1\.21 /);
  });

  test('a port Asterisk uses again for a later connection: its SYN starts a second session', () => {
    const call = (dt: number): Buffer[] => [
      packet(T0 + dt, ASTERISK, DAEMON, '', 0x02),
      A(dt + 10, 'agi_network: yes\n\n'),
      D(dt + 510, 'EXEC Dial "SIP/1@c"\n'),
      A(dt + 900, '200 result=0\n'),
    ];
    const sessions = wireTimings(readPcap(pcap(...call(0), ...call(100_000))), DAEMON);
    assert.deepEqual(sessions.map((s) => s.headerToDialMs), [0.5, 0.5]);
  });

  test('a connection whose header never ended is no session; a file that is not pcap is an error', () => {
    assert.deepEqual(wireTimings(readPcap(pcap(A(0, 'agi_network: yes\n'))), DAEMON), []);
    assert.throws(() => readPcap(Buffer.from('0a0d0d0a00000000000000000000000000000000000000000000', 'hex')), /not a classic pcap/);
  });
});
