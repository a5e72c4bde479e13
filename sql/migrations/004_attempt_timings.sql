-- failover-agi schema 4: Asterisk's own millisecond timers of each Dial, and the post-dial delay they give.
-- ringtime_ms / progresstime_ms: RINGTIME_MS / PROGRESSTIME_MS as Dial left them: ms from the creation of the dialed
-- channel to the first 180 (RINGING) / the first 183 with SDP (PROGRESS) (app_dial.c wait_for_answer()); NULL when
-- that Dial got none. pdd_ms: the post-dial delay, the earlier of the two; NULL when nothing rang or made progress.
-- On a simultaneous Dial every leg's row carries the Dial's values (Asterisk sets them once per Dial).
-- ring_ms and talk_ms keep their meaning (ms; talk_ms is ANSWEREDTIME_MS), so the queries of schema 3 run unchanged.
-- Rows written before this migration have the three new columns NULL: unknown, not "no ringing".

ALTER TABLE carrier_attempt
  ADD COLUMN pdd_ms          INT UNSIGNED NULL COMMENT 'post-dial delay: Dial to first 180/183 (ms); NULL: none, or row of schema 3' AFTER talk_ms,
  ADD COLUMN ringtime_ms     INT UNSIGNED NULL COMMENT 'RINGTIME_MS of the Dial' AFTER pdd_ms,
  ADD COLUMN progresstime_ms INT UNSIGNED NULL COMMENT 'PROGRESSTIME_MS of the Dial' AFTER ringtime_ms;

-- a view's * is expanded when it is created: recreate it so it shows the new columns
CREATE OR REPLACE VIEW carrier_dial AS
  SELECT * FROM carrier_attempt WHERE verdict IN ('answered','stop','next','exhausted','interrupted') AND dial_string <> '';
