-- failover-agi schema 3: every AGI run of a call keeps its rows, and a value that does not fit is NULL, never clamped.
-- Two AGI runs on one channel (a dialplan that calls the daemon twice, a retry context) share agi_uniqueid, so
-- (server_id, uniqueid, attempt) made the second run's rows collide with the first's. run_id is a UUID the daemon
-- draws when a run starts and carries in every record of that run (spool replays included). Rows written before
-- this migration keep run_id '' and stay unique as they were.
-- ring_ms and talk_ms become nullable so an out-of-range duration is stored as NULL instead of being refused.

ALTER TABLE carrier_attempt
  ADD COLUMN run_id VARCHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '' COMMENT 'one AGI run of the call; empty for rows of schema 1' AFTER uniqueid,
  MODIFY ring_ms INT UNSIGNED NULL DEFAULT 0,
  MODIFY talk_ms INT UNSIGNED NULL DEFAULT 0,
  ADD UNIQUE KEY uq_run_attempt (server_id, uniqueid, run_id, attempt),
  DROP INDEX uq_attempt;

-- a view's * is expanded when it is created: recreate it so it shows run_id
CREATE OR REPLACE VIEW carrier_dial AS
  SELECT * FROM carrier_attempt WHERE verdict IN ('answered','stop','next','exhausted','interrupted') AND dial_string <> '';
