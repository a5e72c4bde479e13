-- When did a carrier come back, how long was it out, and when did it answer a call again? Last 24 hours.
-- A recovery is a move to 'up' from 'down' or 'probing' (startup's unknown -> up is not one).
-- seconds_out runs from the moment it last left up/lagged; first_answer_after is its first answered Dial since.
-- Run:  mysql failover_agi < sql/queries/back-on-primary.sql
--       mysql --init-command="SET @fa_carrier = 'primary'" failover_agi < sql/queries/back-on-primary.sql
-- (without @fa_carrier: every carrier; @fa_until as in asr-15min.sql)
SELECT e.at                                              AS back_up_at,
       e.server_id,
       e.carrier,
       e.from_state,
       e.source,
       e.reason,
       TIMESTAMPDIFF(SECOND,
         (SELECT MAX(d.at) FROM carrier_event d
           WHERE d.server_id = e.server_id AND d.carrier = e.carrier AND d.at <= e.at
             AND d.from_state IN ('up', 'lagged') AND d.to_state NOT IN ('up', 'lagged')),
         e.at)                                           AS seconds_out,
       (SELECT MIN(a.started_at) FROM carrier_attempt a
         WHERE a.server_id = e.server_id AND a.carrier = e.carrier AND a.verdict = 'answered' AND a.started_at >= e.at)
                                                         AS first_answer_after
FROM carrier_event e
WHERE e.to_state = 'up'
  AND e.from_state IN ('down', 'probing')
  AND e.at >= COALESCE(@fa_until, UTC_TIMESTAMP(3)) - INTERVAL 24 HOUR
  AND e.at <  COALESCE(@fa_until, UTC_TIMESTAMP(3))
  -- the session's collation is not the table's (utf8mb4_0900_ai_ci on MySQL 8, utf8mb4_general_ci on MariaDB):
  -- comparing the column with a user variable needs the table's
  AND (@fa_carrier IS NULL OR e.carrier = CONVERT(@fa_carrier USING utf8mb4) COLLATE utf8mb4_unicode_ci)
ORDER BY e.at, e.id;
