-- How long does each carrier take to ring? Post-dial delay (Dial to the first 180 or 183) per carrier, last hour.
-- pdd_ms is Asterisk's RINGTIME_MS / PROGRESSTIME_MS, whichever came first (schema 4). p50/p95 are nearest-rank
-- percentiles over the Dials that rang or made progress; not_alerted counts the Dials that did neither (a 503 at
-- once, a swallowed INVITE, and rows written before schema 4). A rising p95 is often the first sign of a carrier
-- in trouble, before its ASR moves.
-- Run:  mysql failover_agi < sql/queries/post-dial-delay.sql
-- (@fa_until as in asr-15min.sql)
SELECT carrier,
       COUNT(*)                                          AS dials,
       COUNT(pdd_ms)                                     AS alerted,
       COUNT(*) - COUNT(pdd_ms)                          AS not_alerted,
       MIN(IF(pdd_ms IS NOT NULL AND rn >= CEIL(0.50 * alerted_n), pdd_ms, NULL)) AS p50_pdd_ms,
       MIN(IF(pdd_ms IS NOT NULL AND rn >= CEIL(0.95 * alerted_n), pdd_ms, NULL)) AS p95_pdd_ms,
       MAX(pdd_ms)                                       AS max_pdd_ms
FROM (SELECT carrier,
             pdd_ms,
             -- the Dials that alerted first, fastest first (ORDER BY with NULLs last on MySQL and MariaDB alike)
             ROW_NUMBER() OVER (PARTITION BY carrier ORDER BY pdd_ms IS NULL, pdd_ms) AS rn,
             COUNT(pdd_ms) OVER (PARTITION BY carrier)  AS alerted_n
        FROM carrier_dial
       WHERE started_at >= COALESCE(@fa_until, UTC_TIMESTAMP(3)) - INTERVAL 1 HOUR
         AND started_at <  COALESCE(@fa_until, UTC_TIMESTAMP(3))) d
GROUP BY carrier
ORDER BY carrier;
