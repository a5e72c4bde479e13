import { NONCE } from './running-config.js';

/**
 * Who asked, as the CLI tells it: its user and uid, and SUDO_USER when run through sudo. Only root and the ops group
 * can open the socket at all (its mode is the access control); this names which of them it was, for the audit row.
 */
export interface Operator {
  readonly user: string;
  readonly uid: number;
  readonly sudoUser?: string;
}

/** `alice (uid 1001)`, `root (uid 0, sudo from alice)`; `an unnamed client` when the request carried no name. */
export function describeOperator(o: Operator | undefined): string {
  if (!o) return 'an unnamed client';
  return `${o.user} (uid ${o.uid}${o.sudoUser ? `, sudo from ${o.sudoUser}` : ''})`;
}

/** The CLI ↔ daemon protocol on the control socket: one JSON request line, one JSON response line. */
export type ControlRequest =
  | { readonly cmd: 'status' }
  | { readonly cmd: 'plan'; readonly number: string; readonly route?: string; readonly script?: string }
  | { readonly cmd: 'drain'; readonly carrier: string; readonly by?: Operator }
  | { readonly cmd: 'enable'; readonly carrier: string; readonly by?: Operator }
  | { readonly cmd: 'force-down'; readonly carrier: string; readonly forMs: number | null; readonly by?: Operator }
  /** The running config for `check-config --diff`, secrets answered against the CLI's fingerprints (running-config.ts). */
  | { readonly cmd: 'config'; readonly nonce: string; readonly secrets: Readonly<Record<string, string>> };

const NAME = /^[A-Za-z0-9_.@-]{1,64}$/;

function operatorOf(v: unknown): Operator | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const user = typeof o['user'] === 'string' && NAME.test(o['user']) ? o['user'] : null;
  const uid = typeof o['uid'] === 'number' && Number.isSafeInteger(o['uid']) && o['uid'] >= 0 ? o['uid'] : null;
  if (user === null || uid === null) return undefined;
  const sudo = typeof o['sudoUser'] === 'string' && NAME.test(o['sudoUser']) ? o['sudoUser'] : undefined;
  return sudo ? { user, uid, sudoUser: sudo } : { user, uid };
}

export type ControlResponse = { readonly ok: true; readonly data: unknown } | { readonly ok: false; readonly error: string };

export function parseControlRequest(line: string): ControlRequest | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return 'request is not JSON';
  }
  if (typeof v !== 'object' || v === null) return 'request is not an object';
  const o = v as Record<string, unknown>;
  const str = (k: string): string | null => (typeof o[k] === 'string' ? (o[k] as string) : null);
  switch (o['cmd']) {
    case 'status':
      return { cmd: 'status' };
    case 'plan': {
      const number = str('number');
      if (number === null) return 'plan needs a number';
      const route = str('route');
      const script = str('script');
      return { cmd: 'plan', number, ...(route ? { route } : {}), ...(script ? { script } : {}) };
    }
    case 'drain':
    case 'enable': {
      const carrier = str('carrier');
      if (!carrier) return `${String(o['cmd'])} needs a carrier`;
      const by = operatorOf(o['by']);
      return by ? { cmd: o['cmd'], carrier, by } : { cmd: o['cmd'], carrier };
    }
    case 'force-down': {
      const carrier = str('carrier');
      if (!carrier) return 'force-down needs a carrier';
      const forMs = typeof o['forMs'] === 'number' && o['forMs'] > 0 ? o['forMs'] : null;
      const by = operatorOf(o['by']);
      return by ? { cmd: 'force-down', carrier, forMs, by } : { cmd: 'force-down', carrier, forMs };
    }
    case 'config': {
      const nonce = str('nonce');
      if (nonce === null || !NONCE.test(nonce)) return 'config needs a nonce of 32 to 128 hex digits';
      const raw = o['secrets'];
      const secrets: Record<string, string> = {};
      if (typeof raw === 'object' && raw !== null) {
        for (const [k, val] of Object.entries(raw as Record<string, unknown>)) if (typeof val === 'string' && /^[0-9a-f]{64}$/.test(val)) secrets[k] = val;
      }
      return { cmd: 'config', nonce, secrets };
    }
    default:
      return `unknown command ${JSON.stringify(o['cmd'])}`;
  }
}

/** `10m`, `90s`, `2h`, `500ms`, or plain seconds → milliseconds. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000));
}
