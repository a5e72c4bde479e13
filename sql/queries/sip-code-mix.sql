-- What is each carrier answering us with? SIP final responses per carrier over the last hour, with their share.
-- sip_code NULL = no SIP response at all (timer B, unreachable, no progress): dialstatus tells which.
-- Run:  mysql failover_agi < sql/queries/sip-code-mix.sql      (@fa_until as in asr-15min.sql)
SELECT carrier,
       sip_code,
       MIN(sip_reason)                                   AS sip_reason,
       dialstatus,
       COUNT(*)                                          AS n,
       ROUND(100 * COUNT(*) / SUM(COUNT(*)) OVER (PARTITION BY carrier), 1) AS pct_of_carrier
FROM carrier_dial
WHERE started_at >= COALESCE(@fa_until, UTC_TIMESTAMP(3)) - INTERVAL 1 HOUR
  AND started_at <  COALESCE(@fa_until, UTC_TIMESTAMP(3))
GROUP BY carrier, sip_code, dialstatus
ORDER BY carrier, n DESC, sip_code, dialstatus;
