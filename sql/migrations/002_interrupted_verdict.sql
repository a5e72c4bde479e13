-- verdict 'interrupted': a Dial the daemon gave up on (shutdown grace over, agi.maxCallDuration reached) before
-- Asterisk answered it; what happened to the call is unknown, only that it was dialed.
ALTER TABLE carrier_attempt MODIFY verdict ENUM('answered','stop','next','skipped','exhausted','invalid','interrupted') NOT NULL;

-- an interrupted Dial was placed: it counts among the Dials
CREATE OR REPLACE VIEW carrier_dial AS
  SELECT * FROM carrier_attempt WHERE verdict IN ('answered','stop','next','exhausted','interrupted') AND dial_string <> '';
