import type { PoolOptions } from 'mysql2/promise';
import type { DaemonSettings } from '../config/schema.js';

export type DbSettings = DaemonSettings['db'];

/** mysql2 pool settings: bounded queue (no unbounded memory while the database is down), UTC, keep-alive. */
export function poolOptions(db: DbSettings, withDatabase = true): PoolOptions {
  return {
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    ...(withDatabase ? { database: db.database } : {}),
    connectionLimit: 4,
    queueLimit: 64,
    connectTimeout: 3000,
    enableKeepAlive: true,
    keepAliveInitialDelay: 10000,
    timezone: 'Z',
    dateStrings: false,
    multipleStatements: false,
    charset: 'utf8mb4',
  };
}

/** Database names we create and use: letters, digits, underscore (they are interpolated into DDL). */
export function checkDatabaseName(name: string): string {
  if (!/^[A-Za-z0-9_]{1,64}$/.test(name)) throw new Error(`db.database ${JSON.stringify(name)}: use letters, digits and _ only`);
  return name;
}
