import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fail, HEALTH, mapRig } from './helpers.js';

/** A config reload hands the health map new settings: future decisions use them, present state stands. */
describe('health settings on reload', () => {
  test('a lower consecutiveFailures opens the breaker at the next failure; the run so far counts', () => {
    const r = mapRig({ health: { consecutiveFailures: 5 } });
    for (let i = 0; i < 2; i++) r.map.recordAttempt(fail('primary', r.clock.now()));
    assert.notEqual(r.state('primary'), 'down', '2 of 5');
    r.map.setSettings({ ...HEALTH, consecutiveFailures: 3 }, 30_000);
    assert.notEqual(r.state('primary'), 'down', 'new settings alone open nothing');
    r.map.recordAttempt(fail('primary', r.clock.now()));
    assert.equal(r.state('primary'), 'down');
    assert.match(r.reason('primary') ?? '', /3 carrier failures in a row/);
  });

  test('a higher consecutiveFailures lets more failures through before it opens', () => {
    const r = mapRig({ health: { consecutiveFailures: 2 } });
    r.map.setSettings({ ...HEALTH, consecutiveFailures: 4 }, 30_000);
    for (let i = 0; i < 3; i++) r.map.recordAttempt(fail('primary', r.clock.now()));
    assert.notEqual(r.state('primary'), 'down');
    r.map.recordAttempt(fail('primary', r.clock.now()));
    assert.equal(r.state('primary'), 'down');
  });

  test('an ejected carrier stays ejected for the time it was given, whatever the new baseEjection', () => {
    const r = mapRig({ health: { baseEjection: 30_000, consecutiveFailures: 3 } });
    for (let i = 0; i < 3; i++) r.map.recordAttempt(fail('primary', r.clock.now()));
    assert.equal(r.state('primary'), 'down');
    r.map.setSettings({ ...HEALTH, baseEjection: 1_000, maxEjection: 1_000 }, 30_000);
    r.clock.advance(5_000);
    r.map.tick();
    assert.equal(r.state('primary'), 'down', 'still ejected after the new, shorter ejection');
    r.clock.advance(25_000);
    r.map.tick();
    assert.equal(r.state('primary'), 'probing', 'released at the end it was given (30 s)');
    // the next opening uses the new length: one trial failure ejects it for 1 s
    r.map.recordAttempt(fail('primary', r.clock.now()));
    assert.equal(r.state('primary'), 'down');
    r.clock.advance(1_000);
    r.map.tick();
    assert.equal(r.state('primary'), 'probing');
  });
});
