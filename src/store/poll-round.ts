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
