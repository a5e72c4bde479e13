-- How did each carrier do hour by hour today? Dials and ASR per carrier per hour over the last 24 hours.
-- Dials only (carrier_dial view); ASR = answered / dials. Hours are UTC.
-- Run:  mysql failover_agi < sql/queries/asr-hourly.sql
-- (@fa_until as in asr-15min.sql)
SELECT DATE_FORMAT(started_at, '%Y-%m-%d %H:00')         AS hour_utc,
       carrier,
       COUNT(*)                                          AS dials,
       SUM(verdict = 'answered')                         AS answered,
       ROUND(100 * SUM(verdict = 'answered') / COUNT(*), 1) AS asr_pct,
       SUM(verdict IN ('next', 'exhausted'))             AS carrier_failed
FROM carrier_dial
WHERE started_at >= COALESCE(@fa_until, UTC_TIMESTAMP(3)) - INTERVAL 24 HOUR
  AND started_at <  COALESCE(@fa_until, UTC_TIMESTAMP(3))
GROUP BY hour_utc, carrier
ORDER BY hour_utc, carrier;
