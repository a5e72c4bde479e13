import convict from 'convict';
import { hostname } from 'node:os';

/**
 * Daemon settings: one place for every key, its default and its doc string.
 * Durations are milliseconds, except a carrier's ringTimeout/progressTimeout, which are Dial's own seconds.
 * Carriers and routes are validated by carriers.ts, which gives messages that name the carrier or route.
 */
export const daemonSchema = {
  serverId: {
    doc: 'Name of this dialer in attempt and event rows (several dialers can share one database).',
    format: String,
    default: hostname(),
    env: 'FAILOVER_AGI_SERVER_ID',
  },
  agi: {
    host: { doc: 'Address the FastAGI server listens on.', format: String, default: '127.0.0.1', env: 'FAILOVER_AGI_HOST' },
    port: {
      doc: 'FastAGI port. 4573 is Asterisk\'s default; 4577 belongs to VICIdial\'s FastAGI_log and is refused.',
      format: 'port',
      default: 4573,
      env: 'FAILOVER_AGI_PORT',
    },
    allowedPeers: {
      doc: 'Source IP addresses allowed to connect (the Asterisk servers). Others are refused and logged.',
      format: Array,
      default: ['127.0.0.1', '::1', '::ffff:127.0.0.1'],
      env: 'FAILOVER_AGI_ALLOWED_PEERS',
    },
    headerTimeout: { doc: 'ms to receive the whole AGI header block.', format: 'nat', default: 5000 },
    commandTimeout: { doc: 'ms to wait for the reply to any command except EXEC Dial.', format: 'nat', default: 10000 },
    maxHeaderBytes: { doc: 'Largest header block accepted; larger closes the connection.', format: 'nat', default: 16384 },
    maxLineBytes: { doc: 'Longest reply line accepted from Asterisk.', format: 'nat', default: 65536 },
    maxConnections: { doc: 'Concurrent AGI connections accepted; more are closed at once (Asterisk then sees AGISTATUS=SUCCESS with no FAILOVER_STATUS and falls back).', format: 'nat', default: 20000 },
    keepAliveIdle: {
      doc: 'ms of silence on an AGI socket before TCP keepalive probes start (the kernel then gives up after its tcp_keepalive_probes x tcp_keepalive_intvl); 0 = off. A Dial is silent for the whole call: this is how a remote Asterisk that vanished is noticed.',
      format: 'nat',
      default: 60000,
      env: 'FAILOVER_AGI_KEEPALIVE_IDLE',
    },
    maxCallDuration: {
      doc: 'Longest ms a Dial may stay pending (the whole phone call); past it the attempt is recorded as interrupted and the AGI socket destroyed. 0 = no bound. Generous: calls can last hours. At most 24.8 days (a Node timer\'s limit).',
      format: 'nat',
      default: 43200000,
      env: 'FAILOVER_AGI_MAX_CALL_DURATION',
    },
    sharedKey: {
      doc: 'Key Asterisk must send in the AGI URL (agi://host:port/script?key=...); connections without it get no Dial and never reach health. Empty = no key. Never logged.',
      format: String,
      default: '',
      sensitive: true,
      env: 'FAILOVER_AGI_SHARED_KEY',
    },
    sharedKeyFile: { doc: 'File whose first line is the shared key (used when sharedKey is empty).', format: String, default: '', env: 'FAILOVER_AGI_SHARED_KEY_FILE' },
  },
  log: {
    level: {
      doc: 'pino log level.',
      format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
      env: 'FAILOVER_AGI_LOG_LEVEL',
    },
    pretty: { doc: 'Human-readable one-line logs instead of JSON.', format: Boolean, default: false, env: 'FAILOVER_AGI_LOG_PRETTY' },
    showNumbers: { doc: 'Log whole phone numbers; by default all but the last four digits are masked.', format: Boolean, default: false },
  },
  ami: {
    enabled: { doc: 'Follow carrier health over AMI.', format: Boolean, default: false, env: 'FAILOVER_AGI_AMI_ENABLED' },
    host: { doc: 'AMI host.', format: String, default: '127.0.0.1', env: 'FAILOVER_AGI_AMI_HOST' },
    port: { doc: 'AMI port.', format: 'port', default: 5038, env: 'FAILOVER_AGI_AMI_PORT' },
    username: { doc: 'AMI user (a manager.conf user of our own, never VICIdial\'s listencron).', format: String, default: 'failover-agi', env: 'FAILOVER_AGI_AMI_USERNAME' },
    secret: { doc: 'AMI secret. Never logged.', format: String, default: '', sensitive: true, env: 'FAILOVER_AGI_AMI_SECRET' },
    secretFile: { doc: 'File holding the AMI secret (used when secret is empty).', format: String, default: '', env: 'FAILOVER_AGI_AMI_SECRET_FILE' },
    reconnectMin: { doc: 'ms before the first reconnect; doubles per failure.', format: 'nat', default: 500 },
    reconnectMax: { doc: 'Longest ms between reconnects.', format: 'nat', default: 10000 },
    actionTimeout: { doc: 'ms to wait for an AMI action reply.', format: 'nat', default: 5000 },
    staleAfter: { doc: 'ms after AMI loss when AMI-derived states become unknown.', format: 'nat', default: 30000 },
  },
  health: {
    laggedRtt: { doc: 'Qualify round trip (ms) above which a carrier counts as lagged.', format: 'nat', default: 500 },
    consecutiveFailures: { doc: 'Carrier-side failures in a row that open the breaker.', format: 'nat', default: 3 },
    window: { doc: 'ms window for the failure ratio.', format: 'nat', default: 60000 },
    failureRatio: { doc: 'Failure share in the window that opens the breaker.', format: Number, default: 0.5 },
    minVolume: { doc: 'Attempts in the window before the ratio counts.', format: 'nat', default: 10 },
    baseEjection: { doc: 'ms a carrier stays ejected, times the number of recent ejections.', format: 'nat', default: 30000 },
    maxEjection: { doc: 'Longest ejection in ms.', format: 'nat', default: 300000 },
    recoverySuccesses: { doc: 'Good signals needed before a recovering carrier counts as up again.', format: 'nat', default: 2 },
    maxEjectedPercent: { doc: 'Never eject more than this share of a route\'s carriers.', format: 'nat', default: 100 },
  },
  db: {
    host: { doc: 'MySQL/MariaDB host; empty = no database, records go to the spool only.', format: String, default: '', env: 'FAILOVER_AGI_DB_HOST' },
    port: { doc: 'MySQL/MariaDB port.', format: 'port', default: 3306, env: 'FAILOVER_AGI_DB_PORT' },
    user: { doc: 'Database user.', format: String, default: 'failover_agi', env: 'FAILOVER_AGI_DB_USER' },
    password: { doc: 'Database password. Never logged.', format: String, default: '', sensitive: true, env: 'FAILOVER_AGI_DB_PASSWORD' },
    database: { doc: 'Database holding our tables (can sit beside VICIdial\'s asterisk database).', format: String, default: 'failover_agi', env: 'FAILOVER_AGI_DB_NAME' },
  },
  store: {
    spoolDir: { doc: 'Directory of the on-disk spool (and of the JSONL log when no database is set).', format: String, default: '/var/lib/failover-agi/spool', env: 'FAILOVER_AGI_SPOOL_DIR' },
    flushRows: { doc: 'Rows per multi-row INSERT.', format: 'nat', default: 500 },
    flushMs: { doc: 'Longest ms a record waits in memory before a write.', format: 'nat', default: 200 },
    queueLimit: { doc: 'Records held in memory; past it they go straight to the spool.', format: 'nat', default: 50000 },
    spoolMaxBytes: { doc: 'Spool size limit in bytes; a loud warning near it.', format: 'nat', default: 1073741824 },
    fsyncMs: { doc: 'ms between fsyncs of the journal and spool: bounds what a power loss or OS crash can lose (a SIGKILL loses nothing enqueued).', format: 'nat', default: 1000 },
  },
  http: {
    host: { doc: 'Address of /metrics, /healthz and /status.', format: String, default: '127.0.0.1' },
    port: { doc: 'Port of /metrics, /healthz and /status; 0 = off.', format: 'port', default: 9573, env: 'FAILOVER_AGI_HTTP_PORT' },
  },
  control: {
    socket: { doc: 'Unix socket the CLI talks to (mode 0660: the service user, its group and root).', format: String, default: '/run/failover-agi/control.sock', env: 'FAILOVER_AGI_CONTROL_SOCKET' },
    stateFile: { doc: 'Where drain/force-down survive restarts.', format: String, default: '/var/lib/failover-agi/admin-state.json', env: 'FAILOVER_AGI_STATE_FILE' },
  },
  shutdown: {
    grace: { doc: 'ms calls in progress may take to finish after SIGTERM.', format: 'nat', default: 30000 },
  },
  carriers: { doc: 'Carriers (see README).', format: Array, default: [] as unknown[] },
  routes: { doc: 'Routes (see README).', format: Array, default: [] as unknown[] },
};

export type DaemonConfig = convict.Config<typeof daemonSchemaShape>;

/** The typed shape of the schema, so `config.get('agi.port')` is typed. */
export interface DaemonSettings {
  serverId: string;
  agi: {
    host: string;
    port: number;
    allowedPeers: string[];
    headerTimeout: number;
    commandTimeout: number;
    maxHeaderBytes: number;
    maxLineBytes: number;
    maxConnections: number;
    keepAliveIdle: number;
    maxCallDuration: number;
    sharedKey: string;
    sharedKeyFile: string;
  };
  log: { level: string; pretty: boolean; showNumbers: boolean };
  ami: {
    enabled: boolean;
    host: string;
    port: number;
    username: string;
    secret: string;
    secretFile: string;
    reconnectMin: number;
    reconnectMax: number;
    actionTimeout: number;
    staleAfter: number;
  };
  health: {
    laggedRtt: number;
    consecutiveFailures: number;
    window: number;
    failureRatio: number;
    minVolume: number;
    baseEjection: number;
    maxEjection: number;
    recoverySuccesses: number;
    maxEjectedPercent: number;
  };
  db: { host: string; port: number; user: string; password: string; database: string };
  store: {
    spoolDir: string;
    flushRows: number;
    flushMs: number;
    queueLimit: number;
    spoolMaxBytes: number;
    fsyncMs: number;
  };
  http: { host: string; port: number };
  control: { socket: string; stateFile: string };
  shutdown: { grace: number };
  carriers: unknown[];
  routes: unknown[];
}
declare const daemonSchemaShape: DaemonSettings;
