import mysql from 'mysql2/promise';
import type { DbSettings } from '../../src/store/db-config.js';

/** The server the tests use: MYSQL_URL (mysql://user:pass@host:port) if set, else root with no password on 127.0.0.1:3306. */
export function mysqlAdminConfig(): DbSettings {
  const url = process.env['MYSQL_URL'];
  if (url) {
    const u = new URL(url);
    return { host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: '' };
  }
  return { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: '' };
}

export interface TestDatabase {
  readonly name: string;
  readonly db: DbSettings;
  readonly conn: mysql.Connection;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** A database of its own for one test file, dropped at the end: tests never touch anything that was there. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const admin = mysqlAdminConfig();
  const name = `fa_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const conn = await mysql.createConnection({ host: admin.host, port: admin.port, user: admin.user, password: admin.password, timezone: 'Z', multipleStatements: false });
  await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  await conn.query(`USE \`${name}\``);
  return {
    name,
    db: { ...admin, database: name },
    conn,
    async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
      const [rows] = await conn.query(sql, params);
      return rows as T[];
    },
    async drop() {
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.end();
    },
  };
}
