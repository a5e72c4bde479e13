-- failover-agi schema 1: one row per attempt, one row per carrier state change.
-- Times are UTC with milliseconds. Applied by `failover-agi migrate`; never edit an applied migration, add the next one.

CREATE TABLE IF NOT EXISTS carrier_attempt (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  server_id     VARCHAR(64)  NOT NULL,
  uniqueid      VARCHAR(32)  NOT NULL COMMENT 'Asterisk uniqueid of the AGI channel, e.g. 1795412596.4',
  attempt       SMALLINT UNSIGNED NOT NULL COMMENT '1-based sequence within the call, skips included',
  route         VARCHAR(64)  NOT NULL,
  strategy      VARCHAR(16)  NOT NULL,
  carrier       VARCHAR(255) NOT NULL COMMENT 'carrier name; several joined by & for a simultaneous Dial',
  dial_string   VARCHAR(512) NOT NULL,
  number_dialed VARCHAR(32)  NOT NULL,
  caller_code   VARCHAR(30)  NOT NULL DEFAULT '' COMMENT 'VICIdial V/M/Y caller code',
  lead_id       INT UNSIGNED NULL COMMENT 'VICIdial lead_id from the caller code',
  campaign      VARCHAR(64)  NOT NULL DEFAULT '',
  started_at    DATETIME(3)  NOT NULL,
  answered_at   DATETIME(3)  NULL,
  ended_at      DATETIME(3)  NOT NULL,
  ring_ms       INT UNSIGNED NOT NULL DEFAULT 0,
  talk_ms       INT UNSIGNED NOT NULL DEFAULT 0,
  dialstatus    VARCHAR(16)  NOT NULL DEFAULT '',
  cause         SMALLINT UNSIGNED NULL COMMENT 'Q.850 HANGUPCAUSE',
  sip_code      SMALLINT UNSIGNED NULL,
  sip_reason    VARCHAR(64)  NOT NULL DEFAULT '',
  verdict       ENUM('answered','stop','next','skipped','exhausted','invalid') NOT NULL,
  reason        VARCHAR(255) NOT NULL DEFAULT '',
  health_state  VARCHAR(16)  NOT NULL DEFAULT '',
  PRIMARY KEY (id),
  UNIQUE KEY uq_attempt (server_id, uniqueid, attempt),
  KEY ix_started (started_at),
  KEY ix_carrier_started (carrier(64), started_at),
  KEY ix_uniqueid (uniqueid),
  KEY ix_lead (lead_id, started_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS carrier_event (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  event_key   CHAR(36)     NOT NULL COMMENT 'unique per event, so a spool replay never doubles it',
  at          DATETIME(3)  NOT NULL,
  server_id   VARCHAR(64)  NOT NULL,
  carrier     VARCHAR(64)  NOT NULL,
  from_state  VARCHAR(16)  NOT NULL,
  to_state    VARCHAR(16)  NOT NULL,
  source      ENUM('ami','breaker','admin','config') NOT NULL,
  reason      VARCHAR(255) NOT NULL DEFAULT '',
  PRIMARY KEY (id),
  UNIQUE KEY uq_event (event_key),
  KEY ix_carrier_at (carrier, at),
  KEY ix_at (at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Dials only (no skips, refusals or the closing row of a call that found no carrier): what answer-seizure ratios count.
CREATE OR REPLACE VIEW carrier_dial AS
  SELECT * FROM carrier_attempt WHERE verdict IN ('answered','stop','next','exhausted') AND dial_string <> '';
