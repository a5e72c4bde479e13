-- Which calls needed more than one carrier in the last hour, which path did each take, and where did it end?
-- path: carrier:final SIP response in the order they were dialed, or carrier:DIALSTATUS when there was none (a
-- ring-out shows NOANSWER, not the 180 that was its last response; see sip-code-mix.sql).
-- Run:  mysql failover_agi < sql/queries/failovers.sql
-- (@fa_until as in asr-15min.sql)
SELECT uniqueid,
       MIN(started_at)                                   AS started_at,
       MIN(number_dialed)                                AS number_dialed,
       MIN(lead_id)                                      AS lead_id,
       COUNT(*)                                          AS dials,
       GROUP_CONCAT(CONCAT(carrier, ':', IF(sip_code >= 200, sip_code, dialstatus)) ORDER BY attempt SEPARATOR ' > ') AS path,
       MAX(IF(verdict = 'answered', carrier, NULL))      AS answered_by,
       SUBSTRING_INDEX(GROUP_CONCAT(verdict ORDER BY attempt DESC), ',', 1) AS final_verdict
FROM carrier_dial
WHERE started_at >= COALESCE(@fa_until, UTC_TIMESTAMP(3)) - INTERVAL 1 HOUR
  AND started_at <  COALESCE(@fa_until, UTC_TIMESTAMP(3))
GROUP BY server_id, uniqueid, run_id
HAVING COUNT(*) > 1
ORDER BY started_at, uniqueid;
