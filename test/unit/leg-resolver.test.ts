import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CARRIER_DEFAULTS } from '../../src/config/carriers.js';
import type { CarrierConfig } from '../../src/config/types.js';
import { carrierOfChannel } from '../../src/calls/leg-resolver.js';

const carrier = (name: string, dial: string, peer = name): CarrierConfig => ({ ...CARRIER_DEFAULTS, name, dial, peer, budget: null });

// channel names as Asterisk makes them: chan_sip `SIP/<peer>-<8 hex>` (captures/multi/simultaneous_486_503.agi.raw:
// SIP/carrier-primary-00000022), IAX2 `IAX2/<peer>-<callno>` (chan_iax2.c:6008, "IAX2/%s-%d" of the peer's host name)
describe('carrierOfChannel: which carrier a dialed channel came from', () => {
  const primary = carrier('primary', 'SIP/${number}@carrier-primary', 'carrier-primary');
  const iax = carrier('c', 'IAX2/carrier-c/${number}', 'trunk-c');
  const carriers = [primary, iax];
  const rows: [string, CarrierConfig | null][] = [
    ['SIP/carrier-primary-00000003', primary],
    ['IAX2/carrier-c-1234', iax],
    ['IAX2/trunk-c-77', iax],
    ['SIP/carrier-primaryx-00000003', null],
    ['PJSIP/carrier-primary-00000003', null],
    ['SIP/carrier-c-1', null],
  ];
  for (const [channel, want] of rows) {
    test(channel, () => assert.equal(carrierOfChannel(channel, carriers), want));
  }
  test('asked again for the same carrier object, the same answer; a reloaded carrier with a new dial string answers for it', () => {
    assert.equal(carrierOfChannel('SIP/carrier-primary-00000004', carriers), primary);
    const moved = carrier('primary', 'SIP/${number}@carrier-new', 'carrier-new');
    assert.equal(carrierOfChannel('SIP/carrier-primary-00000005', [moved]), null);
    assert.equal(carrierOfChannel('SIP/carrier-new-00000005', [moved]), moved);
  });
});
