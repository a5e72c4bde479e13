/**
 * One round of a cluster poll: publish, then read. A failed write must not cost the read: a dialer that cannot
 * publish (a read-only node after a database failover, a grant without INSERT) still needs what its peers say.
 * The round fails with the read's error, else the write's, so the caller's view of the table stays honest.
 */
export async function writeThenRead(write: () => Promise<void>, read: () => Promise<void>): Promise<void> {
  let writeError: unknown = null;
  try {
    await write();
  } catch (err) {
    writeError = err;
  }
  await read();
  if (writeError !== null) throw writeError;
}

/**
 * Ends a pool, waiting at most `ms`: a graceful end sends each connection a quit and waits for it, which a database
 * that stopped answering (a blackholed route) never acknowledges, and a shutdown must not hang on it.
 */
export async function endWithin(pool: { end(): Promise<void> }, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | null = null;
  await Promise.race([pool.end().catch(() => undefined), new Promise<void>((res) => (timer = setTimeout(res, ms)))]);
  if (timer) clearTimeout(timer);
}
