-- failover-agi schema 8: cluster-wide carrier budgets (cluster.enabled). Each dialer publishes its own spend per
-- carrier for the current clock hour and day here on its cluster poll, and reads the other dialers' rows for the same
-- windows: a budget counts own spend (in memory, exact) + the peers' (as last published), never a call twice.
-- Counters rather than sums over carrier_attempt: a handful of rows read by primary key, whatever the attempt log
-- holds, while the attempt log reaches the database in batches (and via the spool after an outage) and a day's
-- answered rows would be summed again on every poll.
-- One row per (dialer, carrier, period, slot): slot is the hour of the day (0-23) for period hour, 0 for day, so a
-- new window overwrites the row of the same slot a day earlier and the table stays at dialers x carriers x 25 rows
-- with no DELETE (the dialers' grant is SELECT, INSERT, UPDATE).
-- starts: the window's start (UTC) by the publishing dialer's clock and TZ; a reader counts only rows whose start
-- is its own current window's, so dialers a few seconds apart never mix two hours (all dialers must share one TZ).

CREATE TABLE IF NOT EXISTS carrier_spend (
  period      ENUM('hour','day') NOT NULL,
  slot        TINYINT UNSIGNED NOT NULL COMMENT 'hour of the day (0-23) for period hour, 0 for day',
  carrier     VARCHAR(255) NOT NULL,
  server_id   VARCHAR(64)  NOT NULL COMMENT 'the dialer whose calls these are',
  starts      DATETIME(3)  NOT NULL COMMENT 'start of the clock hour or local day, UTC',
  minutes     DOUBLE       NOT NULL DEFAULT 0 COMMENT 'talk minutes as billed (billingIncrement)',
  money       DOUBLE       NOT NULL DEFAULT 0 COMMENT 'at the publishing dialer''s prices',
  updated_at  DATETIME(3)  NOT NULL COMMENT 'database time of the last publish',
  PRIMARY KEY (period, slot, carrier, server_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
