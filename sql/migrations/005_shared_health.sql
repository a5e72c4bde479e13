-- failover-agi schema 5: shared health (cluster.enabled). The dialers of one cluster tell each other what their
-- breakers learned: one row per carrier, the cluster's latest word on it, written by the dialer that learned it.
-- Every time is the database's (UTC_TIMESTAMP(3)), never a dialer's clock: readers turn until_at and learned_at
-- into durations in the same query, so dialers whose clocks disagree by seconds still agree on an ejection's end.
-- state: open (ejected until until_at), trial (a trial call holds it until until_at), closed (back in service).

CREATE TABLE IF NOT EXISTS carrier_shared_health (
  carrier     VARCHAR(64)  NOT NULL,
  server_id   VARCHAR(64)  NOT NULL COMMENT 'the dialer whose breaker learned it',
  state       ENUM('open','trial','closed') NOT NULL,
  until_at    DATETIME(3)  NOT NULL COMMENT 'database time the ejection or the trial hold ends',
  learned_at  DATETIME(3)  NOT NULL COMMENT 'database time the dialer learned it; an older fact never overwrites a newer one',
  reason      VARCHAR(255) NOT NULL DEFAULT '',
  version     BIGINT UNSIGNED NOT NULL DEFAULT 1 COMMENT 'grows with every change of the row: readers apply each version once',
  updated_at  DATETIME(3)  NOT NULL,
  PRIMARY KEY (carrier),
  KEY ix_updated (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- a peer's breaker fact applied here is a carrier event with source peer (the peer is named in the reason)
ALTER TABLE carrier_event MODIFY source ENUM('ami','breaker','admin','config','peer') NOT NULL;
