import { createHmac, timingSafeEqual } from 'node:crypto';
import { isSecret, type ConfigView } from '../config/reload-plan.js';
import { settingKeys } from '../config/schema-keys.js';

/**
 * The running config as `check-config --diff` gets it over the control socket. It never holds a secret: the CLI
 * sends, for each secret of its file, an HMAC under a nonce of its own; the daemon answers each secret with that same
 * HMAC when its running value matches, or a marker when it does not. So the diff can say "(changed)", and nothing
 * that crosses the socket can be turned back into the value (a wrong guess costs one request).
 */
export interface RunningConfig {
  readonly file: string | null;
  readonly view: ConfigView;
  /** Keys the daemon's environment sets (FAILOVER_AGI_*): they win over any file, on a reload too. */
  readonly fromEnv: readonly string[];
}

/** What a secret is replaced with when the file's value is not the running one. */
export const DIFFERENT_SECRET = '(not the running value)';
export const NONCE = /^[0-9a-f]{32,128}$/;
const FINGERPRINT = /^[0-9a-f]{64}$/;

export function secretFingerprint(nonce: string, value: string): string {
  return createHmac('sha256', nonce).update(value).digest('hex');
}

const secretKeys = (): string[] => settingKeys().filter((k) => k.sensitive).map((k) => k.key);

/** The CLI side: the file's view with each secret replaced by its fingerprint under `nonce`. */
export function fingerprintSecrets(view: ConfigView, nonce: string): { view: ConfigView; secrets: Record<string, string> } {
  const settings: Record<string, unknown> = { ...view.settings };
  const secrets: Record<string, string> = {};
  for (const key of secretKeys()) {
    const fp = secretFingerprint(nonce, String(view.settings[key] ?? ''));
    settings[key] = fp;
    secrets[key] = fp;
  }
  return { view: { ...view, settings }, secrets };
}

/** The daemon side: its running view with every secret answered as described above. */
export function runningConfigAnswer(o: {
  readonly file: string | null;
  readonly view: ConfigView;
  readonly env: NodeJS.ProcessEnv;
  readonly nonce: string;
  readonly secrets: Readonly<Record<string, string>>;
}): RunningConfig {
  const settings: Record<string, unknown> = { ...o.view.settings };
  for (const key of Object.keys(settings)) {
    if (!isSecret(key)) continue;
    const claim = o.secrets[key];
    const mine = Buffer.from(secretFingerprint(o.nonce, String(settings[key] ?? '')));
    settings[key] = claim !== undefined && FINGERPRINT.test(claim) && timingSafeEqual(mine, Buffer.from(claim)) ? claim : DIFFERENT_SECRET;
  }
  const fromEnv = settingKeys()
    .filter((k) => k.env !== null && o.env[k.env] !== undefined)
    .map((k) => k.key);
  return { file: o.file, view: { ...o.view, settings }, fromEnv };
}

/**
 * The file as a reload of the running daemon would read it: a key the daemon's environment sets keeps its running
 * value whatever the file says (the environment wins over the file).
 */
export function asReloadWouldRead(file: ConfigView, running: RunningConfig): ConfigView {
  const settings: Record<string, unknown> = { ...file.settings };
  for (const key of running.fromEnv) if (key in settings) settings[key] = running.view.settings[key];
  return { ...file, settings };
}

/** A control answer checked for the shape the diff relies on; a string says what is wrong. */
export function parseRunningConfig(v: unknown): RunningConfig | string {
  if (typeof v !== 'object' || v === null) return 'the daemon sent no config';
  const o = v as Record<string, unknown>;
  const view = o['view'] as Record<string, unknown> | undefined;
  if (!view || typeof view['settings'] !== 'object' || !Array.isArray(view['carriers']) || !Array.isArray(view['routes'])) {
    return 'the daemon\'s answer has no settings, carriers and routes (is it an older version without check-config --diff?)';
  }
  return {
    file: typeof o['file'] === 'string' ? o['file'] : null,
    view: view as unknown as ConfigView,
    fromEnv: Array.isArray(o['fromEnv']) ? o['fromEnv'].filter((k): k is string => typeof k === 'string') : [],
  };
}
