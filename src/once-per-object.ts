/**
 * `build(k)` worked out once per object and kept as long as the object lives. For what is derived from an object
 * that is replaced, never changed (a carrier's config on a reload, a clock, a logger), and asked for on every call.
 */
export function oncePerObject<K extends object, V>(build: (k: K) => V): (k: K) => V {
  const made = new WeakMap<K, V>();
  return (k) => {
    if (made.has(k)) return made.get(k) as V;
    const v = build(k);
    made.set(k, v);
    return v;
  };
}
