import convict from 'convict';
import { hostname } from 'node:os';
import './formats.js';

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
      format: 'tcp-port',
      default: 4573,
      env: 'FAILOVER_AGI_PORT',
    },
    allowedPeers: {
      doc: 'Source IP addresses allowed to connect (the Asterisk servers). Others are refused and logged.',
      format: Array,
      default: ['127.0.0.1', '::1', '::ffff:127.0.0.1'],
      env: 'FAILOVER_AGI_ALLOWED_PEERS',
    },
    headerTimeout: { doc: 'ms to receive the whole AGI header block.', format: 'whole', default: 5000 },
    commandTimeout: { doc: 'ms to wait for the reply to any command except EXEC Dial.', format: 'whole', default: 10000 },
    maxHeaderBytes: { doc: 'Largest header block accepted; larger closes the connection.', format: 'whole', default: 16384 },
    maxLineBytes: { doc: 'Longest reply line accepted from Asterisk.', format: 'whole', default: 65536 },
    listenBacklog: {
      doc: 'Listen queue of the AGI port: connects the kernel holds until the daemon accepts them. A dialer opens hundreds at once and a full queue drops them (Asterisk: AGISTATUS=FAILURE, the static cascade). The kernel caps it at net.core.somaxconn (4096 on current kernels).',
      format: 'whole',
      default: 4096,
    },
    maxConnections: { doc: 'Concurrent AGI connections accepted; more are closed at once (Asterisk then sees AGISTATUS=SUCCESS with no FAILOVER_STATUS and falls back).', format: 'whole', default: 20000 },
    keepAliveIdle: {
      doc: 'ms of silence on an AGI socket before TCP keepalive probes start (the kernel then gives up after its tcp_keepalive_probes x tcp_keepalive_intvl); 0 = off. A Dial is silent for the whole call: this is how a remote Asterisk that vanished is noticed.',
      format: 'whole',
      default: 60000,
      env: 'FAILOVER_AGI_KEEPALIVE_IDLE',
    },
    maxCallDuration: {
      doc: 'Longest ms a Dial may stay pending (the whole phone call); past it the attempt is recorded as interrupted and the AGI socket destroyed. 0 = no bound. Generous: calls can last hours. At most 24.8 days (a Node timer\'s limit).',
      format: 'whole',
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
    pretty: { doc: 'Human-readable one-line logs instead of JSON.', format: 'bool', default: false, env: 'FAILOVER_AGI_LOG_PRETTY' },
    showNumbers: { doc: 'Log whole phone numbers; by default all but the last four digits are masked.', format: 'bool', default: false },
  },
  ami: {
    enabled: { doc: 'Follow carrier health over AMI.', format: 'bool', default: false, env: 'FAILOVER_AGI_AMI_ENABLED' },
    host: { doc: 'AMI host.', format: String, default: '127.0.0.1', env: 'FAILOVER_AGI_AMI_HOST' },
    port: { doc: 'AMI port.', format: 'tcp-port', default: 5038, env: 'FAILOVER_AGI_AMI_PORT' },
    username: { doc: 'AMI user (a manager.conf user of our own, never VICIdial\'s listencron).', format: String, default: 'failover-agi', env: 'FAILOVER_AGI_AMI_USERNAME' },
    secret: { doc: 'AMI secret. Never logged.', format: String, default: '', sensitive: true, env: 'FAILOVER_AGI_AMI_SECRET' },
    secretFile: { doc: 'File holding the AMI secret (used when secret is empty).', format: String, default: '', env: 'FAILOVER_AGI_AMI_SECRET_FILE' },
    reconnectMin: { doc: 'ms before the first reconnect; doubles per failure.', format: 'whole', default: 500 },
    reconnectMax: { doc: 'Longest ms between reconnects.', format: 'whole', default: 10000 },
    actionTimeout: { doc: 'ms to wait for an AMI action reply.', format: 'whole', default: 5000 },
    staleAfter: { doc: 'ms after AMI loss when AMI-derived states become unknown.', format: 'whole', default: 30000 },
  },
  health: {
    laggedRtt: {
      doc: 'PJSIP contact round trip (ms, RoundtripUsec) above which a carrier counts as lagged. chan_sip and IAX2 peers are judged by their own Reachable/Lagged words (their qualify maxms); their RTT is shown only.',
      format: 'whole',
      default: 500,
    },
    laggedRttMaxAge: {
      doc: 'ms an RTT-derived lagged stands unless a newer RTT confirms it (PJSIP publishes ContactStatus only when the status word changes); then the carrier is up again. 0 = an RTT never makes a carrier lagged.',
      format: 'whole',
      default: 60000,
    },
    outageLeadTime: {
      doc: 'ms before Asterisk reports a carrier down in which a breaker opening counts as the same outage: Asterisk reaching it again then ends that ejection at once (probing). Qualify notices an outage only at its next OPTIONS (chan_sip qualifyfreq 60 s plus its timeout).',
      format: 'whole',
      default: 65000,
    },
    holdDownFlaps: { doc: 'AMI downs within holdDownWindow that hold a carrier down (flapping qualify); 0 = no hold-down.', format: 'whole', default: 3 },
    holdDownWindow: { doc: 'ms window in which holdDownFlaps AMI downs start a hold-down.', format: 'whole', default: 120000 },
    holdDownQuiet: { doc: 'ms Asterisk must reach a held-down carrier without a new down before the hold ends (it then recovers through trial calls).', format: 'whole', default: 60000 },
    consecutiveFailures: { doc: 'Carrier-side failures in a row that open the breaker.', format: 'whole', default: 3 },
    window: { doc: 'ms window for the failure ratio.', format: 'whole', default: 60000 },
    failureRatio: { doc: 'Failure share in the window (0 to 1) above which the breaker opens.', format: 'ratio', default: 0.5 },
    minVolume: { doc: 'Attempts in the window before the ratio counts.', format: 'whole', default: 10 },
    baseEjection: { doc: 'ms a carrier stays ejected, times the number of recent ejections.', format: 'whole', default: 30000 },
    maxEjection: { doc: 'Longest ejection in ms.', format: 'whole', default: 300000 },
    recoverySuccesses: { doc: 'Good signals needed before a recovering carrier counts as up again.', format: 'whole', default: 2 },
    maxEjectedPercent: { doc: 'Never eject more than this share (percent, 0 to 100) of a route\'s carriers.', format: 'percent', default: 100 },
    suspectAfterNoResponse: {
      doc: 'A carrier whose last INVITE got no SIP response at all (progress timeout) is suspect until it answers anything: one call at a time to it, the others go to the next carrier instead of paying the same timeout.',
      format: 'bool',
      default: true,
    },
    // quality ordering (docs/health.md "Quality ordering"): the defaults judge a carrier only on enough volume that
    // chance cannot move it (50 seized Dials in 15 min against 100 in the hour before), and only on large changes
    quality: {
      enabled: { doc: 'Quality ordering: a carrier whose answer-seizure ratio, post-dial delay or short-call share degrades is dialed after the healthy ones (demoted, never skipped).', format: 'bool', default: true, env: 'FAILOVER_AGI_QUALITY_ENABLED' },
      recentWindow: { doc: 'ms of recent Dials a carrier is judged on (whole minutes count: the figures are kept per minute).', format: 'positive-ms', default: 900000 },
      baselineWindow: { doc: 'ms before the recent window that make the carrier\'s own baseline.', format: 'positive-ms', default: 3600000 },
      minDials: { doc: 'Seized Dials (answered or failed by the carrier; busy, no-answer and cancel left out) the recent window needs before it is judged.', format: 'whole', default: 50 },
      minBaselineDials: { doc: 'Seized Dials the baseline needs before the rules relative to it count (the absolute ones need none).', format: 'whole', default: 100 },
      minSamples: { doc: 'Dials that rang (for post-dial delay) or answered (for the short-call share) each window needs before that figure counts.', format: 'whole', default: 20 },
      asrDrop: { doc: 'Demoted when the recent answer-seizure ratio is below the baseline\'s times (1 - asrDrop); 0 = rule off.', format: 'ratio', default: 0.5 },
      asrFloor: { doc: 'Demoted when the recent answer-seizure ratio is below this share, whatever the baseline; 0 = rule off.', format: 'ratio', default: 0 },
      pddRise: { doc: 'Demoted when the recent post-dial delay p50 is above the baseline\'s by this percent (100 = doubled) and by pddRiseMs; 0 = rule off.', format: 'whole', default: 100 },
      pddRiseMs: { doc: 'ms the recent post-dial delay p50 must also be above the baseline\'s (so 300 ms to 700 ms is no demotion).', format: 'whole', default: 2000 },
      pddCeiling: { doc: 'Demoted when the recent post-dial delay p50 is above this many ms, whatever the baseline; 0 = rule off.', format: 'whole', default: 0 },
      shortCall: { doc: 'ms of talk under which an answered call counts as short (a fake answer, an instant hangup).', format: 'whole', default: 6000 },
      shortShareRise: { doc: 'Demoted when the recent share of short calls is above the baseline\'s by this much (0.25 = 25 points); 0 = rule off.', format: 'ratio', default: 0.25 },
      shortShareCeiling: { doc: 'Demoted when the recent share of short calls is above this, whatever the baseline; 0 = rule off.', format: 'ratio', default: 0 },
      recoverMargin: { doc: 'Hysteresis: the share of each margin a demoted carrier must win back before it returns (0.5: demoted below half its baseline ASR, back at three quarters).', format: 'ratio', default: 0.5 },
      minDemoted: { doc: 'ms a demoted carrier stays demoted at least, however its figures look.', format: 'whole', default: 300000 },
    },
  },
  db: {
    host: { doc: 'MySQL/MariaDB host; empty = no database, records go to the spool only.', format: String, default: '', env: 'FAILOVER_AGI_DB_HOST' },
    port: { doc: 'MySQL/MariaDB port.', format: 'tcp-port', default: 3306, env: 'FAILOVER_AGI_DB_PORT' },
    user: { doc: 'Database user.', format: String, default: 'failover_agi', env: 'FAILOVER_AGI_DB_USER' },
    password: { doc: 'Database password. Never logged.', format: String, default: '', sensitive: true, env: 'FAILOVER_AGI_DB_PASSWORD' },
    database: { doc: 'Database holding our tables (can sit beside VICIdial\'s asterisk database).', format: String, default: 'failover_agi', env: 'FAILOVER_AGI_DB_NAME' },
  },
  cluster: {
    enabled: {
      doc: 'Shared health: this dialer publishes what its breaker learns (ejections, trial calls, recoveries) to the carrier_shared_health table of db.database and applies what the other dialers publish. Needs db.host. AMI states and operator holds stay local.',
      format: 'bool',
      default: false,
      env: 'FAILOVER_AGI_CLUSTER_ENABLED',
    },
    pollMs: { doc: 'ms between reads of the other dialers\' breaker facts (one indexed query; a read never waits longer than this).', format: 'positive-ms', default: 1000 },
    staleAfter: {
      doc: 'ms without a successful read after which the cluster view counts as lost: this dialer decides alone (failover_agi_cluster_up 0, status says so); peer ejections already applied run out on their own.',
      format: 'positive-ms',
      default: 5000,
    },
    trialWait: {
      doc: 'ms after a peer\'s ejection ends during which only the dialer that ejected the carrier places its trial call (one trial for the cluster); after that every dialer may.',
      format: 'whole',
      default: 5000,
    },
  },
  store: {
    spoolDir: { doc: 'Directory of the on-disk spool (and of the JSONL log when no database is set).', format: String, default: '/var/lib/failover-agi/spool', env: 'FAILOVER_AGI_SPOOL_DIR' },
    flushRows: { doc: 'Rows per multi-row INSERT.', format: 'whole', default: 500 },
    flushMs: { doc: 'Longest ms a record waits in memory before a write.', format: 'whole', default: 200 },
    queueLimit: { doc: 'Records held in memory; past it they go straight to the spool.', format: 'whole', default: 50000 },
    spoolMaxBytes: { doc: 'Spool size limit in bytes; a loud warning near it.', format: 'whole', default: 1073741824 },
    fsyncMs: { doc: 'ms between fsyncs of the journal and spool: bounds what a power loss or OS crash can lose (a SIGKILL loses at most the records of the event-loop turn it cuts short, written at its end).', format: 'whole', default: 1000 },
  },
  http: {
    host: { doc: 'Address of /metrics, /healthz and /status.', format: String, default: '127.0.0.1' },
    port: { doc: 'Port of /metrics, /healthz and /status; 0 = off.', format: 'tcp-port', default: 9573, env: 'FAILOVER_AGI_HTTP_PORT' },
  },
  control: {
    socket: { doc: 'Unix socket the CLI talks to (mode 0660: the service user, its group and root).', format: String, default: '/run/failover-agi/control.sock', env: 'FAILOVER_AGI_CONTROL_SOCKET' },
    stateFile: { doc: 'Where drain/force-down survive restarts.', format: String, default: '/var/lib/failover-agi/admin-state.json', env: 'FAILOVER_AGI_STATE_FILE' },
  },
  shutdown: {
    grace: { doc: 'ms calls in progress may take to finish after SIGTERM.', format: 'whole', default: 30000 },
  },
  carriers: { doc: 'Carriers (see docs/configuration.md).', format: Array, default: [] as unknown[] },
  routes: { doc: 'Routes (see docs/configuration.md).', format: Array, default: [] as unknown[] },
  prefixGroups: { doc: 'Named destination prefix groups the breaker follows per carrier (see docs/health.md).', format: Array, default: [] as unknown[] },
};

/** health.quality: the policy of quality ordering (src/health/quality.ts judges with it). */
export interface QualitySettings {
  enabled: boolean;
  recentWindow: number;
  baselineWindow: number;
  minDials: number;
  minBaselineDials: number;
  minSamples: number;
  asrDrop: number;
  asrFloor: number;
  pddRise: number;
  pddRiseMs: number;
  pddCeiling: number;
  shortCall: number;
  shortShareRise: number;
  shortShareCeiling: number;
  recoverMargin: number;
  minDemoted: number;
}

/** health.* as the breaker and the health map read it: quality ordering has its own ledger (src/health/quality-ledger.ts). */
export type BreakerHealthSettings = Omit<DaemonSettings['health'], 'quality'>;

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
    listenBacklog: number;
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
    laggedRttMaxAge: number;
    outageLeadTime: number;
    holdDownFlaps: number;
    holdDownWindow: number;
    holdDownQuiet: number;
    consecutiveFailures: number;
    window: number;
    failureRatio: number;
    minVolume: number;
    baseEjection: number;
    maxEjection: number;
    recoverySuccesses: number;
    maxEjectedPercent: number;
    suspectAfterNoResponse: boolean;
    quality: QualitySettings;
  };
  db: { host: string; port: number; user: string; password: string; database: string };
  cluster: { enabled: boolean; pollMs: number; staleAfter: number; trialWait: number };
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
  prefixGroups: unknown[];
}
declare const daemonSchemaShape: DaemonSettings;
