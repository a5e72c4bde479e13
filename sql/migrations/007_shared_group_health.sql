-- failover-agi schema 7: shared health per prefix group (prefixGroups with cluster.enabled). A dialer's breaker for
-- one (carrier, prefix group) tells the other dialers too, so a carrier ejected for uk-mobile on one dialer is
-- skipped for uk-mobile numbers on all of them. prefix_group '' is the carrier as a whole: every row of schema 6
-- is one of those, and stays valid as it is.

ALTER TABLE carrier_shared_health
  ADD COLUMN prefix_group VARCHAR(64) NOT NULL DEFAULT '' COMMENT 'prefixGroups name the fact is about; empty: the carrier as a whole' AFTER carrier,
  DROP PRIMARY KEY,
  ADD PRIMARY KEY (carrier, prefix_group);
