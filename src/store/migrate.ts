import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import type { Logger } from '../log.js';
import { checkDatabaseName, poolOptions, type DbSettings } from './db-config.js';

/** sql/migrations sits two levels above this file both in the source tree and in dist/. */
function migrationsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of [join(here, '..', '..', 'sql', 'migrations'), join(here, '..', '..', '..', 'sql', 'migrations')]) {
    try {
      readdirSync(up);
      return up;
    } catch {
      /* try the other layout */
    }
  }
  throw new Error('sql/migrations not found beside the program');
}

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

/** `NNN_name.sql`, split into statements on `;` at line ends (our migrations hold no procedures). */
export function loadMigrations(dir = migrationsDir()): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .sort()
    .map((f) => {
      const text = readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .filter((l) => !l.trim().startsWith('--'))
        .join('\n');
      return {
        version: Number(f.slice(0, f.indexOf('_'))),
        name: f,
        statements: text.split(/;\s*(?:\n|$)/).map((s) => s.trim()).filter((s) => s.length > 0),
      };
    });
}

const latestOf = (migrations: readonly Migration[]): number => Math.max(0, ...migrations.map((m) => m.version));

export class SchemaError extends Error {
  override name = 'SchemaError';
}

/** The schema versions recorded in the database (a Connection or a Pool: both have query()). */
async function appliedVersions(conn: Pick<mysql.Pool, 'query'>): Promise<Set<number>> {
  const [rows] = await conn.query('SELECT version FROM schema_version');
  return new Set((rows as { version: number }[]).map((r) => Number(r.version)));
}

const maxOf = (versions: ReadonlySet<number>): number => Math.max(0, ...versions);

/** Migrations this program has that the database has not seen, also below its newest (branches merged out of order). */
function missing(migrations: readonly Migration[], applied: ReadonlySet<number>): Migration[] {
  return migrations.filter((m) => !applied.has(m.version));
}

/**
 * Creates the database if missing and applies every migration it has not seen, in order. Running it again is a
 * no-op; a database whose schema is newer than this program refuses, so an old binary never writes a new schema.
 */
export async function migrate(db: DbSettings, log: Logger): Promise<{ from: number; to: number }> {
  const name = checkDatabaseName(db.database);
  const conn = await mysql.createConnection(poolOptions(db, false));
  try {
    await conn.query(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await conn.query(`USE \`${name}\``);
    await conn.query(
      'CREATE TABLE IF NOT EXISTS schema_version (version INT UNSIGNED NOT NULL PRIMARY KEY, name VARCHAR(128) NOT NULL, applied_at DATETIME(3) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4',
    );
    const migrations = loadMigrations();
    const latest = latestOf(migrations);
    const applied = await appliedVersions(conn);
    const from = maxOf(applied);
    if (from > latest) {
      throw new SchemaError(`database ${name} has schema version ${from}, newer than this failover-agi knows (${latest}): upgrade failover-agi, do not downgrade the schema`);
    }
    for (const m of missing(migrations, applied)) {
      log.info({ version: m.version, migration: m.name }, 'applying migration');
      for (const st of m.statements) await conn.query(st);
      await conn.query('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, UTC_TIMESTAMP(3))', [m.version, m.name]);
    }
    return { from, to: Math.max(from, latest) };
  } finally {
    await conn.end();
  }
}

/** At start: the schema must be exactly the one this program writes. */
export async function checkSchema(pool: mysql.Pool, database: string): Promise<void> {
  const migrations = loadMigrations();
  const latest = latestOf(migrations);
  let applied: Set<number>;
  try {
    applied = await appliedVersions(pool);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ER_NO_SUCH_TABLE' || code === 'ER_BAD_DB_ERROR') {
      throw new SchemaError(`database ${database} has no failover-agi schema: run "failover-agi migrate"`);
    }
    throw err;
  }
  const v = maxOf(applied);
  if (v > latest) throw new SchemaError(`database ${database} has schema version ${v}, newer than this failover-agi knows (${latest}): upgrade failover-agi`);
  const gaps = missing(migrations, applied);
  if (v < latest || gaps.length > 0) {
    throw new SchemaError(`database ${database} has schema version ${v}${gaps.length > 0 && v >= latest ? ` without ${gaps.map((m) => m.name).join(', ')}` : ''}, this failover-agi needs ${latest}: run "failover-agi migrate"`);
  }
}
