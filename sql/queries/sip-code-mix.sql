-- What is each carrier answering us with? SIP final responses per carrier over the last hour, with their share.
-- sip_code holds a leg's last SIP response, provisional ones included (Asterisk keeps only the last). Here
-- final_sip is a final response (200 and up) only. A Dial that ended without one has final_sip NULL, and then
-- last_provisional shows the last 1xx it got: a ring-out is NULL / 180 / NOANSWER, a caller who hung up while it
-- rang is NULL / 180 / CANCEL, and a progress timeout after a bare 100 Trying is NULL / 100 / CHANUNAVAIL.
-- Both NULL means no SIP response at all (timer B, unreachable, a swallowed INVITE): dialstatus tells which.
-- Run:  mysql failover_agi < sql/queries/sip-code-mix.sql
-- (@fa_until as in asr-15min.sql)
SELECT carrier,
       IF(sip_code >= 200, sip_code, NULL)               AS final_sip,
       MIN(IF(sip_code >= 200, sip_reason, ''))          AS sip_reason,
       IF(sip_code < 200, sip_code, NULL)                AS last_provisional,
       dialstatus,
       COUNT(*)                                          AS n,
       ROUND(100 * COUNT(*) / SUM(COUNT(*)) OVER (PARTITION BY carrier), 1) AS pct_of_carrier
FROM carrier_dial
WHERE started_at >= COALESCE(@fa_until, UTC_TIMESTAMP(3)) - INTERVAL 1 HOUR
  AND started_at <  COALESCE(@fa_until, UTC_TIMESTAMP(3))
GROUP BY carrier, final_sip, last_provisional, dialstatus
ORDER BY carrier, n DESC, final_sip, last_provisional, dialstatus;
