import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { contactStatusEvent, message, peerStatusEvent, registryEvent } from '../sim/ami-server.js';
import { changesFromEvent, registryCarriers, type AmiTarget } from '../../src/health/ami-events.js';
import { bareName, peerListStatus, techOf } from '../../src/health/ami-facts.js';
import { mapRig, parseRaw } from './helpers.js';

// byte for byte from captures/peerstatus_*.raw (Asterisk 20, chan_sip, qualify=yes)
const CAPTURED = {
  reachable: 'Event: PeerStatus\r\nPrivilege: system,all\r\nChannelType: SIP\r\nPeer: SIP/carrier-primary\r\nPeerStatus: Reachable\r\n\r\n',
  lagged: 'Event: PeerStatus\r\nPrivilege: system,all\r\nChannelType: SIP\r\nPeer: SIP/carrier-primary\r\nPeerStatus: Lagged\r\n\r\n',
  unreachable: 'Event: PeerStatus\r\nPrivilege: system,all\r\nChannelType: SIP\r\nPeer: SIP/carrier-primary\r\nPeerStatus: Unreachable\r\nTime: -1\r\n\r\n',
};

const B_URI = 'sip:carrier-b@203.0.113.20:5060';
const D_URI = 'sip:gw@198.51.100.7:5060';

type Row = readonly [label: string, events: readonly string[], carrier: string, state: string, reasonPart: string];

const ROWS: readonly Row[] = [
  // chan_sip PeerStatus, every value chan_sip publishes
  ['SIP Reachable (captured)', [CAPTURED.reachable], 'primary', 'up', 'PeerStatus Reachable'],
  ['SIP Lagged (captured)', [CAPTURED.lagged], 'primary', 'lagged', 'PeerStatus Lagged'],
  ['SIP Unreachable (captured, Time: -1)', [CAPTURED.unreachable], 'primary', 'down', 'PeerStatus Unreachable'],
  ['SIP Registered (dynamic peer)', [peerStatusEvent('SIP', 'carrier-primary', 'Registered', { address: '203.0.113.10:5060' })], 'primary', 'up', 'Registered'],
  ['SIP Unregistered (Expired)', [peerStatusEvent('SIP', 'carrier-primary', 'Unregistered', { cause: 'Expired' })], 'primary', 'down', 'Unregistered (Expired)'],
  ['SIP Rejected (AUTH_SECRET_FAILED)', [peerStatusEvent('SIP', 'carrier-primary', 'Rejected', { cause: 'AUTH_SECRET_FAILED', address: '203.0.113.10:5060' })], 'primary', 'down', 'AUTH_SECRET_FAILED'],
  // chan_sip's word decides (its own maxms): a Time above laggedRtt is shown, never judged (no later event would refresh it)
  ['SIP Reachable with a Time above laggedRtt is still up', [peerStatusEvent('SIP', 'carrier-primary', 'Reachable', { time: '1001' })], 'primary', 'up', 'Reachable (1001 ms)'],
  ['SIP Reachable with a Time under laggedRtt', [peerStatusEvent('SIP', 'carrier-primary', 'Reachable', { time: '12' })], 'primary', 'up', '(12 ms)'],
  ['SIP Lagged with a Time under laggedRtt is still lagged', [peerStatusEvent('SIP', 'carrier-primary', 'Lagged', { time: '300' })], 'primary', 'lagged', 'Lagged (300 ms)'],
  ['SIP Unknown', [peerStatusEvent('SIP', 'carrier-primary', 'Unknown')], 'primary', 'unknown', 'not qualified yet'],
  ['SIP Unmonitored (qualify=no) keeps its place: up, judged by the breaker', [peerStatusEvent('SIP', 'carrier-primary', 'Unmonitored')], 'primary', 'up', 'health from the breaker only'],
  ['SIP back from Unreachable recovers through trial calls', [CAPTURED.unreachable, CAPTURED.reachable], 'primary', 'probing', 'Asterisk reaches it again'],
  ['SIP Lagged then Reachable is up at once', [CAPTURED.lagged, CAPTURED.reachable], 'primary', 'up', 'Reachable'],
  ['SIP event for another peer', [peerStatusEvent('SIP', 'carrier-x', 'Unreachable')], 'primary', 'unknown', 'no AMI data yet'],
  ['PJSIP event for the chan_sip peer name', [peerStatusEvent('PJSIP', 'carrier-primary', 'Unreachable')], 'primary', 'unknown', 'no AMI data yet'],
  ['peer names are case-insensitive', [peerStatusEvent('SIP', 'Carrier-Primary', 'Unreachable')], 'primary', 'down', 'Unreachable'],
  // PJSIP endpoint PeerStatus
  ['PJSIP endpoint Reachable', [peerStatusEvent('PJSIP', 'carrier-b', 'Reachable')], 'secondary', 'up', 'Reachable'],
  ['PJSIP endpoint Unreachable', [peerStatusEvent('PJSIP', 'carrier-b', 'Unreachable')], 'secondary', 'down', 'Unreachable'],
  // IAX2
  ['IAX2 Reachable', [peerStatusEvent('IAX2', 'carrier-c', 'Reachable')], 'tertiary', 'up', 'Reachable'],
  ['IAX2 Lagged', [peerStatusEvent('IAX2', 'carrier-c', 'Lagged')], 'tertiary', 'lagged', 'Lagged'],
  ['IAX2 Unreachable', [peerStatusEvent('IAX2', 'carrier-c', 'Unreachable')], 'tertiary', 'down', 'Unreachable'],
  ['IAX2 Unregistered', [peerStatusEvent('IAX2', 'carrier-c', 'Unregistered')], 'tertiary', 'down', 'Unregistered'],
  // ContactStatus, every value status_map has
  ['contact Reachable, 3.4 ms', [contactStatusEvent({ uri: B_URI, status: 'Reachable', aor: 'carrier-b', endpoint: 'carrier-b', rttUsec: 3456 })], 'secondary', 'up', '(3 ms)'],
  ['contact Reachable, 750 ms > laggedRtt', [contactStatusEvent({ uri: B_URI, status: 'Reachable', aor: 'carrier-b', endpoint: 'carrier-b', rttUsec: 750_000 })], 'secondary', 'lagged', '750 ms > 500 ms'],
  ['contact Unreachable', [contactStatusEvent({ uri: B_URI, status: 'Unreachable', aor: 'carrier-b', endpoint: 'carrier-b' })], 'secondary', 'down', 'Unreachable'],
  ['contact Unknown', [contactStatusEvent({ uri: B_URI, status: 'Unknown', aor: 'carrier-b', endpoint: 'carrier-b' })], 'secondary', 'unknown', 'Unknown'],
  ['contact NonQualified (qualify_frequency=0) keeps its place: up, judged by the breaker', [contactStatusEvent({ uri: B_URI, status: 'NonQualified', aor: 'carrier-b', endpoint: 'carrier-b' })], 'secondary', 'up', 'NonQualified (qualify_frequency=0): not qualified, health from the breaker only'],
  [
    'an unqualified contact beside an unreachable one: Asterisk counts it available',
    [
      contactStatusEvent({ uri: B_URI, status: 'NonQualified', aor: 'carrier-b', endpoint: 'carrier-b' }),
      contactStatusEvent({ uri: 'sip:carrier-b@203.0.113.21:5060', status: 'Unreachable', aor: 'carrier-b', endpoint: 'carrier-b' }),
    ],
    'secondary',
    'up',
    'NonQualified',
  ],
  [
    'contact Removed leaves the endpoint with none',
    [contactStatusEvent({ uri: B_URI, status: 'Reachable', aor: 'carrier-b', endpoint: 'carrier-b', rttUsec: 3000 }), contactStatusEvent({ uri: B_URI, status: 'Removed', aor: 'carrier-b', endpoint: 'carrier-b' })],
    'secondary',
    'down',
    'no contacts',
  ],
  [
    'one contact of two Unreachable: still up',
    [
      contactStatusEvent({ uri: B_URI, status: 'Reachable', aor: 'carrier-b', endpoint: 'carrier-b', rttUsec: 3000 }),
      contactStatusEvent({ uri: 'sip:carrier-b@203.0.113.21:5060', status: 'Unreachable', aor: 'carrier-b', endpoint: 'carrier-b' }),
    ],
    'secondary',
    'up',
    'Reachable',
  ],
  ['Removed for a contact never seen says nothing', [contactStatusEvent({ uri: B_URI, status: 'Removed', aor: 'carrier-b', endpoint: 'carrier-b' })], 'secondary', 'unknown', 'no AMI data yet'],
  ['contact matched by AOR (peer names the AOR)', [contactStatusEvent({ uri: D_URI, status: 'Unreachable', aor: 'carrier-d-aor', endpoint: 'carrier-d' })], 'by-aor', 'down', 'Unreachable'],
  // Registry, PJSIP and chan_sip values
  ['PJSIP registration Registered', [registryEvent({ channelType: 'PJSIP', username: 'sip:1000@carrier-b', domain: 'sip:carrier-b', status: 'Registered' })], 'secondary', 'up', 'registration Registered'],
  ['PJSIP registration Rejected', [registryEvent({ channelType: 'PJSIP', username: 'sip:1000@carrier-b', domain: 'sip:carrier-b', status: 'Rejected' })], 'secondary', 'down', 'registration Rejected'],
  ['PJSIP registration Unregistered', [registryEvent({ channelType: 'PJSIP', username: 'sip:1000@carrier-b', domain: 'sip:carrier-b:5060', status: 'Unregistered' })], 'secondary', 'down', 'Unregistered'],
  ['chan_sip registration Failed', [registryEvent({ channelType: 'SIP', username: '1000', domain: 'carrier-primary', status: 'Failed', cause: 'timeout' })], 'primary', 'down', 'registration Failed (timeout)'],
  ['chan_sip registration No Authentication', [registryEvent({ channelType: 'SIP', username: '1000', domain: 'carrier-primary', status: 'No Authentication' })], 'primary', 'down', 'No Authentication'],
  ['chan_sip registration Request Sent says nothing', [registryEvent({ channelType: 'SIP', username: '1000', domain: 'carrier-primary', status: 'Request Sent' })], 'primary', 'unknown', 'no AMI data yet'],
  ['registration Registered after Rejected', [registryEvent({ channelType: 'IAX2', username: 'carrier-c', domain: '198.51.100.9', status: 'Rejected' }), registryEvent({ channelType: 'IAX2', username: 'carrier-c', domain: '198.51.100.9', status: 'Registered' })], 'tertiary', 'probing', 'reaches it again'],
  // events that say nothing about carriers
  ['FullyBooted', [message([['Event', 'FullyBooted'], ['Privilege', 'system,all'], ['Status', 'Fully Booted']])], 'primary', 'unknown', 'no AMI data yet'],
  ['DeviceStateChange', [message([['Event', 'DeviceStateChange'], ['Privilege', 'call,all'], ['Device', 'SIP/carrier-primary'], ['State', 'UNAVAILABLE']])], 'primary', 'unknown', 'no AMI data yet'],
  ['a Local carrier is never followed', [peerStatusEvent('SIP', 'other-pbx', 'Unreachable')], 'local', 'unknown', 'not followed over AMI'],
];

describe('AMI events move the right carrier to the right state', () => {
  for (const [label, events, name, state, reasonPart] of ROWS) {
    test(label, () => {
      const r = mapRig();
      for (const raw of events) r.map.applyAmiEvent(parseRaw(raw));
      assert.equal(r.state(name), state, `reason: ${r.reason(name)}`);
      assert.ok(r.reason(name)?.includes(reasonPart), `reason "${r.reason(name)}" should hold "${reasonPart}"`);
      // nobody else moved
      for (const [other, h] of r.map.snapshot()) {
        if (other !== name) assert.ok(['unknown'].includes(h.state), `${other} moved to ${h.state}`);
      }
    });
  }

  test('the simulator sends PeerStatus exactly as the captures show', () => {
    assert.equal(peerStatusEvent('SIP', 'carrier-primary', 'Reachable'), CAPTURED.reachable);
    assert.equal(peerStatusEvent('SIP', 'carrier-primary', 'Lagged'), CAPTURED.lagged);
    assert.equal(peerStatusEvent('SIP', 'carrier-primary', 'Unreachable'), CAPTURED.unreachable);
  });

  test('every transition is one CarrierEvent with source ami', () => {
    const r = mapRig();
    r.map.applyAmiEvent(parseRaw(CAPTURED.reachable));
    r.map.applyAmiEvent(parseRaw(CAPTURED.reachable));
    r.map.applyAmiEvent(parseRaw(CAPTURED.unreachable));
    assert.deepEqual(
      r.events.map((e) => [e.carrier, e.from, e.to, e.source]),
      [
        ['primary', 'unknown', 'up', 'ami'],
        ['primary', 'up', 'down', 'ami'],
      ],
    );
    assert.equal(r.events[1]?.at, r.clock.now());
  });
});

describe('AMI mapping helpers', () => {
  test('technology comes from the dial template prefix', () => {
    const cases: [string, string][] = [
      ['SIP/${number}@carrier-primary', 'sip'],
      ['PJSIP/${number}@carrier-b', 'pjsip'],
      ['IAX2/carrier-c/${number}', 'iax2'],
      ['Local/${number}@ctx', 'other'],
      ['DAHDI/g1/${number}', 'other'],
    ];
    for (const [dial, tech] of cases) assert.equal(techOf(dial), tech, dial);
    assert.equal(bareName('PJSIP/carrier-b'), 'carrier-b');
    assert.equal(bareName('carrier-b'), 'carrier-b');
  });

  test('SIPpeers / IAXpeerlist Status texts', () => {
    assert.deepEqual(peerListStatus('OK (12 ms)'), { status: 'Reachable', rttMs: 12 });
    assert.deepEqual(peerListStatus('LAGGED (2504 ms)'), { status: 'Lagged', rttMs: 2504 });
    assert.deepEqual(peerListStatus('UNREACHABLE'), { status: 'Unreachable', rttMs: null });
    assert.deepEqual(peerListStatus('UNKNOWN'), { status: 'Unknown', rttMs: null });
    assert.deepEqual(peerListStatus('Unmonitored'), { status: 'Unmonitored', rttMs: null });
  });

  test('Registry matching: learned pairs first, else user part or host equal to the peer', () => {
    const targets: AmiTarget[] = [
      { carrier: 'a', tech: 'pjsip', peer: 'trunk-a', endpoint: 'trunk-a', aor: null },
      { carrier: 'b', tech: 'sip', peer: 'sip.carrier-b.example', endpoint: null, aor: null },
      { carrier: 'c', tech: 'sip', peer: 'acct77', endpoint: null, aor: null },
    ];
    const learned = new Map([['sip:4420@sip.provider.example|sip:sip.provider.example', ['a']]]);
    const ev = (channelType: string, username: string, domain: string) => parseRaw(message([['Event', 'Registry'], ['ChannelType', channelType], ['Username', username], ['Domain', domain], ['Status', 'Registered']]));
    assert.deepEqual(registryCarriers(ev('PJSIP', 'sip:4420@sip.provider.example', 'sip:sip.provider.example'), targets, learned), ['a']);
    assert.deepEqual(registryCarriers(ev('SIP', 'x', 'sip.carrier-b.example'), targets, learned), ['b']);
    assert.deepEqual(registryCarriers(ev('SIP', 'acct77', '198.51.100.1'), targets, learned), ['c']);
    assert.deepEqual(registryCarriers(ev('SIP', 'nobody', '198.51.100.1'), targets, learned), []);
    assert.deepEqual(changesFromEvent(ev('PJSIP', 'sip:acct77@x', 'sip:y'), targets, learned, { laggedRtt: 500, laggedRttMaxAge: 60_000, now: 0 }), [], 'tech must match');
  });
});
