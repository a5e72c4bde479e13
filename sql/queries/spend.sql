-- What has each carrier cost today? Answered calls, talk minutes and billed minutes per carrier, per hour and for the day.
-- Counted as the daemon's cost guard counts them: answered Dials, in the window where the Dial ended (ended_at).
-- The database holds no prices: billed_min is talk time rounded up per call to @fa_increment seconds (default 1, as
-- billingIncrement), money = billed_min × @fa_price_per_minute + answered × @fa_price_per_call (NULL without a price;
-- a price is one carrier's, so set @fa_carrier with it). Days and hours are those of the UTC offset @fa_tz
-- (default '+00:00'; '+01:00' for a server on UTC+1, as the daemon's windows follow the server's local time).
-- Run:  mysql failover_agi < sql/queries/spend.sql
--       mysql --init-command="SET @fa_carrier = 'secondary', @fa_price_per_minute = 0.012, @fa_increment = 60, @fa_until = '2026-11-25 14:30:00'" failover_agi < sql/queries/spend.sql
-- (@fa_until as in asr-15min.sql: the day holding it, up to it)
WITH answered AS (
  SELECT carrier,
         talk_ms,
         CONVERT_TZ(ended_at, '+00:00', COALESCE(@fa_tz, '+00:00'))                             AS local_at,
         CEIL(talk_ms / 1000 / COALESCE(@fa_increment, 1)) * COALESCE(@fa_increment, 1)         AS billed_s
  FROM carrier_dial
  WHERE verdict = 'answered'
    AND ended_at <  COALESCE(@fa_until, UTC_TIMESTAMP(3))
    AND ended_at >= COALESCE(@fa_until, UTC_TIMESTAMP(3)) - INTERVAL 2 DAY
    -- a user variable has the session's collation, not the table's: compare in the table's (back-on-primary.sql)
    AND (@fa_carrier IS NULL OR carrier = CONVERT(@fa_carrier USING utf8mb4) COLLATE utf8mb4_unicode_ci)
),
today AS (
  SELECT * FROM answered
  WHERE local_at >= DATE(CONVERT_TZ(COALESCE(@fa_until, UTC_TIMESTAMP(3)), '+00:00', COALESCE(@fa_tz, '+00:00')))
),
windows AS (
  SELECT 'day' AS period, DATE_FORMAT(local_at, '%Y-%m-%d') AS starts, carrier, talk_ms, billed_s FROM today
  UNION ALL
  SELECT 'hour', DATE_FORMAT(local_at, '%Y-%m-%d %H:00'), carrier, talk_ms, billed_s FROM today
)
SELECT carrier,
       period,
       starts,
       COUNT(*)                                  AS answered,
       ROUND(SUM(talk_ms) / 60000, 2)            AS talk_min,
       ROUND(SUM(billed_s) / 60, 2)              AS billed_min,
       ROUND(SUM(billed_s) / 60 * @fa_price_per_minute + COUNT(*) * COALESCE(@fa_price_per_call, 0), 4) AS money
FROM windows
GROUP BY carrier, period, starts
ORDER BY carrier, period, starts;
