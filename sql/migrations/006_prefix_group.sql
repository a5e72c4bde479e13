-- failover-agi schema 6: the prefix group (prefixGroups) the dialed number fell in, on every row of the call, so
-- ops can see that a carrier was skipped for one destination only (reason names the group as well).
-- NULL: the number is in no configured group, or the row was written (or spooled) before this migration.
-- Carrier events stay carrier-wide: per-group ejections are logged, shown by status and exported as metrics.

ALTER TABLE carrier_attempt
  ADD COLUMN prefix_group VARCHAR(64) NULL COMMENT 'prefixGroups name the number fell in; NULL: none, or row of schema 5' AFTER health_state;

-- a view's * is expanded when it is created: recreate it so it shows the new column
CREATE OR REPLACE VIEW carrier_dial AS
  SELECT * FROM carrier_attempt WHERE verdict IN ('answered','stop','next','exhausted','interrupted') AND dial_string <> '';
