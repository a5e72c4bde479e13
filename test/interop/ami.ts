import { connect, type Socket } from 'node:net';

/** One AMI message (event or response) as header → value; repeated headers keep the last value, `Output` lines are joined. */
export type AmiMessage = Record<string, string>;

/**
 * The smallest AMI client the interop tests need: log in, send actions, keep every event seen.
 * Our own on purpose: the daemon's AMI client is one of the things under test elsewhere, and here we want the raw events.
 */
export class LabAmi {
  readonly events: AmiMessage[] = [];
  private buf = '';
  private next = 1;
  private readonly pending = new Map<string, { resolve: (m: AmiMessage) => void; reject: (e: Error) => void }>();
  private readonly waiters: { pred: (m: AmiMessage) => boolean; resolve: (m: AmiMessage) => void }[] = [];

  private constructor(private readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (c: string) => this.feed(c));
    sock.on('close', () => {
      for (const p of this.pending.values()) p.reject(new Error('AMI connection closed'));
      this.pending.clear();
    });
  }

  static async open(port: number, username: string, secret: string): Promise<LabAmi> {
    const sock = await new Promise<Socket>((resolve, reject) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
    const ami = new LabAmi(sock);
    const r = await ami.action({ Action: 'Login', Username: username, Secret: secret });
    if (r['Response'] !== 'Success') throw new Error(`AMI login refused: ${r['Message'] ?? ''}`);
    return ami;
  }

  action(fields: Record<string, string>, timeoutMs = 10000): Promise<AmiMessage> {
    const id = `interop-${this.next++}`;
    const text = Object.entries({ ...fields, ActionID: id }).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`AMI ${fields['Action']} got no response in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (m) => (clearTimeout(t), resolve(m)),
        reject: (e) => (clearTimeout(t), reject(e)),
      });
      this.sock.write(text);
    });
  }

  /** A CLI command's output (AMI Command action): Asterisk 20 sends it as `Output:` lines. */
  async command(cli: string): Promise<string> {
    const r = await this.action({ Action: 'Command', Command: cli });
    return r['Output'] ?? '';
  }

  waitEvent(pred: (m: AmiMessage) => boolean, ms: number, what: string): Promise<AmiMessage> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (m: AmiMessage) => (clearTimeout(t), resolve(m)) };
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`AMI: ${what} not seen within ${ms} ms`));
      }, ms);
      this.waiters.push(w);
    });
  }

  close(): void {
    this.sock.end('Action: Logoff\r\n\r\n');
    this.sock.destroy();
  }

  private feed(chunk: string): void {
    this.buf += chunk;
    let end: number;
    while ((end = this.buf.indexOf('\r\n\r\n')) >= 0) {
      const block = this.buf.slice(0, end);
      this.buf = this.buf.slice(end + 4);
      const m: AmiMessage = {};
      for (const line of block.split('\r\n')) {
        const i = line.indexOf(':');
        if (i <= 0) continue;
        const k = line.slice(0, i);
        const v = line.slice(i + 1).trimStart();
        m[k] = k === 'Output' && m[k] !== undefined ? `${m[k]}\n${v}` : v;
      }
      if (m['Response'] !== undefined && m['ActionID'] !== undefined && this.pending.has(m['ActionID'])) {
        const p = this.pending.get(m['ActionID']);
        this.pending.delete(m['ActionID']);
        p?.resolve(m);
      } else if (m['Event'] !== undefined) {
        this.events.push(m);
        for (const w of [...this.waiters]) if (w.pred(m)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    }
  }
}
