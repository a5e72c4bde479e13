import { daemonSchema } from './schema.js';

/** One daemon setting as the schema declares it: its dotted key, its environment variable, whether it is a secret. */
export interface SettingKey {
  readonly key: string;
  readonly env: string | null;
  readonly sensitive: boolean;
}

type Node = Readonly<Record<string, unknown>>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A convict leaf carries `doc` and `default`; anything else is a group of settings. */
const isLeaf = (v: Node): boolean => 'default' in v && 'doc' in v;

function walk(node: Node, prefix: string, out: SettingKey[]): void {
  for (const [name, v] of Object.entries(node)) {
    if (!isNode(v)) continue;
    const key = prefix ? `${prefix}.${name}` : name;
    if (isLeaf(v)) out.push({ key, env: typeof v['env'] === 'string' ? v['env'] : null, sensitive: v['sensitive'] === true });
    else walk(v, key, out);
  }
}

const KEYS: readonly SettingKey[] = (() => {
  const out: SettingKey[] = [];
  walk(daemonSchema, '', out);
  return out;
})();

/** Every setting of the schema, carriers and routes included, in schema order. */
export function settingKeys(): readonly SettingKey[] {
  return KEYS;
}

/** The value at a dotted key of a settings object (undefined when a part is missing). */
export function valueAt(settings: unknown, key: string): unknown {
  let v: unknown = settings;
  for (const part of key.split('.')) {
    if (!isNode(v)) return undefined;
    v = v[part];
  }
  return v;
}
