-- Why did this lead not connect (or connect where it did)? Every attempt for one VICIdial lead_id, oldest first.
-- lead_id comes from VICIdial's caller code (the V/M/Y... CALLERID name); calls without one have lead_id NULL.
-- pdd_ms: post-dial delay (Dial to the first 180/183); NULL when nothing rang, and for rows of schema 3 and before.
-- Run:  mysql --init-command="SET @fa_lead_id = 12345" failover_agi < sql/queries/lead-history.sql
SELECT started_at,
       uniqueid,
       attempt,
       carrier,
       verdict,
       dialstatus,
       sip_code,
       sip_reason,
       pdd_ms,
       ring_ms,
       talk_ms,
       reason
FROM carrier_attempt
WHERE lead_id = @fa_lead_id
ORDER BY started_at, uniqueid, attempt;
