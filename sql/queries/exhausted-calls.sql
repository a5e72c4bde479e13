-- Which calls found no carrier in the last hour (FAILOVER_STATUS=EXHAUSTED), and what was tried or skipped?
-- tried: as failovers.sql's path (final SIP response, else DIALSTATUS), and 'skipped' for a carrier not dialed.
-- Every such call ends on an 'exhausted' row (its last failed Dial, or a closing row when every carrier was skipped).
-- Run:  mysql failover_agi < sql/queries/exhausted-calls.sql
-- (@fa_until as in asr-15min.sql)
SELECT a.uniqueid,
       MIN(a.started_at)                                 AS started_at,
       MIN(a.number_dialed)                              AS number_dialed,
       MIN(a.lead_id)                                    AS lead_id,
       SUM(a.dial_string <> '')                          AS dials,
       GROUP_CONCAT(IF(a.carrier = '', NULL,
                       CONCAT(a.carrier, ':', IF(a.verdict = 'skipped', 'skipped', IF(a.sip_code >= 200, a.sip_code, a.dialstatus))))
                    ORDER BY a.attempt SEPARATOR ' > ') AS tried
FROM carrier_attempt a
JOIN (SELECT DISTINCT server_id, uniqueid, run_id
        FROM carrier_attempt
       WHERE verdict = 'exhausted'
         AND started_at >= COALESCE(@fa_until, UTC_TIMESTAMP(3)) - INTERVAL 1 HOUR
         AND started_at <  COALESCE(@fa_until, UTC_TIMESTAMP(3))) x
  ON x.server_id = a.server_id AND x.uniqueid = a.uniqueid AND x.run_id = a.run_id
GROUP BY a.server_id, a.uniqueid, a.run_id
ORDER BY started_at, a.uniqueid;
