import { loadConfig } from '../../src/config/load.js';
import { runDemo } from './demo-run.js';

/**
 * `npm run demo`: the scripted day of demo-run.ts on built-in defaults (records kept in memory). With
 * FAILOVER_AGI_DB_HOST (and the other FAILOVER_AGI_DB_* variables) set, the records also go into that MariaDB/MySQL
 * through the real writer, and the demo prints how many rows landed.
 */
async function main(): Promise<void> {
  const { settings } = loadConfig({ file: null, env: process.env });
  const db = settings.db.host ? settings.db : null;
  const out = await runDemo({ db, print: (line) => console.log(line) });
  if (!db) {
    console.log('records kept in memory; set FAILOVER_AGI_DB_HOST=127.0.0.1 to write them to MariaDB/MySQL as well.');
    return;
  }
  const mysql = (await import('mysql2/promise')).default;
  const conn = await mysql.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.database });
  try {
    const ids = [...new Set(out.attempts.map((a) => a.uniqueid))];
    const [[a]] = (await conn.query('SELECT COUNT(*) AS n FROM carrier_attempt WHERE uniqueid IN (?)', [ids])) as unknown as [[{ n: number }]];
    console.log(`${db.database}.carrier_attempt holds ${a.n} rows for these calls (${out.attempts.length} attempts made); ${out.events.length} carrier_event rows written.`);
  } finally {
    await conn.end();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
