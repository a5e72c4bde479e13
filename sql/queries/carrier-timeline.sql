-- What happened to a carrier, and when? Every state change over the last 24 hours, with how long each state lasted.
-- source: ami (qualify / registration), breaker (our own calls), admin (drain/enable/force-down), config (reload).
-- Run:  mysql failover_agi < sql/queries/carrier-timeline.sql
--       mysql --init-command="SET @fa_carrier = 'primary'" failover_agi < sql/queries/carrier-timeline.sql
-- (@fa_until as in asr-15min.sql; the last state's seconds run to @fa_until or now)
SELECT at,
       server_id,
       carrier,
       from_state,
       to_state,
       source,
       reason,
       TIMESTAMPDIFF(SECOND, at, COALESCE(LEAD(at) OVER (PARTITION BY server_id, carrier ORDER BY at, id),
                                          COALESCE(@fa_until, UTC_TIMESTAMP(3)))) AS seconds_in_state
FROM carrier_event
WHERE at >= COALESCE(@fa_until, UTC_TIMESTAMP(3)) - INTERVAL 24 HOUR
  AND at <  COALESCE(@fa_until, UTC_TIMESTAMP(3))
  -- a user variable has the session's collation, not the table's: compare in the table's (back-on-primary.sql)
  AND (@fa_carrier IS NULL OR carrier = CONVERT(@fa_carrier USING utf8mb4) COLLATE utf8mb4_unicode_ci)
ORDER BY at, id;
