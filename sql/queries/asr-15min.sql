-- Which carriers are answering right now? Dials and answer-seizure ratio (ASR) per carrier over the last 15 minutes.
-- Dials only (the carrier_dial view): skipped carriers were never seized. ASR = answered / dials.
-- carrier_failed = carrier-side failures (timeouts, 5xx, unreachable); callee_stop = busy, no answer, 404/486/603.
-- Times are UTC. @fa_until (optional) looks back from another moment than now; every windowed query takes it.
-- Run:  mysql failover_agi < sql/queries/asr-15min.sql
--       mysql --init-command="SET @fa_until = '2026-11-25 14:30:00'" failover_agi < sql/queries/asr-15min.sql
SELECT carrier,
       COUNT(*)                                          AS dials,
       SUM(verdict = 'answered')                         AS answered,
       ROUND(100 * SUM(verdict = 'answered') / COUNT(*), 1) AS asr_pct,
       SUM(verdict = 'stop')                             AS callee_stop,
       SUM(verdict IN ('next', 'exhausted'))             AS carrier_failed,
       ROUND(AVG(IF(verdict = 'answered', ring_ms, NULL))) AS avg_ring_ms_answered
FROM carrier_dial
WHERE started_at >= COALESCE(@fa_until, UTC_TIMESTAMP(3)) - INTERVAL 15 MINUTE
  AND started_at <  COALESCE(@fa_until, UTC_TIMESTAMP(3))
GROUP BY carrier
ORDER BY dials DESC, carrier;
