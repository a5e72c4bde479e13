-- How much time did calls spend on carriers that then failed? Seconds spent on failed Dials per carrier, last hour.
-- A carrier that swallows INVITEs shows here long before its ASR moves: every failed Dial is time a lead waited.
-- Run:  mysql failover_agi < sql/queries/time-wasted.sql
-- (@fa_until as in asr-15min.sql)
SELECT carrier,
       COUNT(*)                                          AS failed_dials,
       ROUND(SUM(ring_ms) / 1000, 1)                     AS seconds_wasted,
       ROUND(AVG(ring_ms))                               AS avg_ms,
       MAX(ring_ms)                                      AS max_ms
FROM carrier_dial
WHERE verdict IN ('next', 'exhausted')
  AND started_at >= COALESCE(@fa_until, UTC_TIMESTAMP(3)) - INTERVAL 1 HOUR
  AND started_at <  COALESCE(@fa_until, UTC_TIMESTAMP(3))
GROUP BY carrier
ORDER BY seconds_wasted DESC, carrier;
