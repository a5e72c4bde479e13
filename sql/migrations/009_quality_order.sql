-- failover-agi schema 9: quality ordering (health.quality). A carrier dialed out of its route's order (demoted for
-- its quality or over a `demote` budget, or moved ahead of one that was) says why on each of its rows; a demotion
-- and a return are carrier events of their own source, with from_state/to_state ok and demoted.
-- NULL order_reason: the carrier was in its place, or the row was written (or spooled) before this migration.

ALTER TABLE carrier_attempt
  ADD COLUMN order_reason VARCHAR(255) NULL COMMENT 'why the carrier was dialed out of route order; NULL: in its place' AFTER prefix_group;

-- a view's * is expanded when it is created: recreate it so it shows the new column
CREATE OR REPLACE VIEW carrier_dial AS
  SELECT * FROM carrier_attempt WHERE verdict IN ('answered','stop','next','exhausted','interrupted') AND dial_string <> '';

ALTER TABLE carrier_event MODIFY source ENUM('ami','breaker','admin','config','peer','quality') NOT NULL;
