import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRouting } from '../../src/config/carriers.js';
import { generateDialplan, type Flavor } from '../../src/ops/dialplan.js';
import { APPLICATIONS, applicationsOf, parseDialplan, runCall, type DaemonRun, type DialResult, type Scenario } from './extensions-interpreter.js';
import { SHIPPED, shippedText } from './shipped-files.js';

interface Subject {
  readonly name: string;
  readonly flavor: Flavor;
  readonly text: string;
  readonly context: string;
  readonly exten: string;
  /** The static Dials' channels, in order, for `exten`. */
  readonly channels: readonly string[];
}

const CONTEXT: Record<Flavor, string> = { plain: 'outbound-failover', freepbx: 'failover-agi-trunk', vicidial: 'vicidial-auto-external' };
const EXAMPLE_CHANNELS = ['SIP/15552345678@carrier-primary', 'PJSIP/15552345678@carrier-b', 'IAX2/carrier-c/15552345678'];

/** A second config, so the table also covers output the shipped files do not show: no strip, a prefix, two carriers. */
function otherConfig(flavor: Flavor): Subject {
  const r = parseRouting(
    [
      { name: 'east', dial: 'PJSIP/${number}@east', ringTimeout: 30, progressTimeout: 3 },
      { name: 'west', dial: 'SIP/west/${number}', dialOptions: 'To' },
    ],
    [{ name: 'intl', carriers: ['west', 'east'], prefix: '00', stripDigits: flavor === 'vicidial' ? 1 : 0 }],
  );
  if (!r.ok) throw new Error(r.problems.join('; '));
  const out = generateDialplan(r.routing, { flavor, route: null, context: null, agiHost: '127.0.0.1', agiPort: 4573, source: 'other.json' });
  if (!out.ok) throw new Error(out.problem);
  const exten = flavor === 'vicidial' ? '915552345678' : '15552345678';
  return {
    name: `generated ${flavor} (other config)`,
    flavor,
    text: out.text,
    context: flavor === 'plain' ? 'intl' : CONTEXT[flavor],
    exten,
    channels: ['SIP/west/0015552345678', 'PJSIP/0015552345678@east'],
  };
}

const SUBJECTS: Subject[] = [
  ...SHIPPED.map(({ file, flavor }) => ({ name: file, flavor, text: shippedText(file), context: CONTEXT[flavor], exten: '915552345678', channels: EXAMPLE_CHANNELS })),
  ...(['plain', 'freepbx', 'vicidial'] as const).map(otherConfig),
];

const final = (status: string, cause: string): DaemonRun => ({
  agiStatus: 'SUCCESS',
  set: { FAILOVER_STATUS: status, FAILOVER_CARRIER: 'primary', FAILOVER_ATTEMPTS: '1', FAILOVER_CAUSE: cause, DIALSTATUS: status === 'EXHAUSTED' ? 'CONGESTION' : status },
  // the channel's own cause is sticky and may be an older attempt's (fact 1): 34 after a 503, whatever came later
  cause: 34,
});

interface Row {
  readonly why: string;
  readonly daemon: DaemonRun;
  readonly vars?: Record<string, string>;
  readonly dials?: readonly DialResult[];
  /** How many static Dials; they are the first N channels of the cascade. */
  readonly staticDials: number;
  readonly cause: number | null;
  readonly end?: 'hangup' | 'caller-gone';
}

const ANSWERED: DialResult = { status: 'ANSWER', cause: 16 };

const TABLE: Row[] = [
  { why: 'daemon down: AGISTATUS=FAILURE, nothing set → static', daemon: { agiStatus: 'FAILURE' }, dials: [ANSWERED], staticDials: 1, cause: 16 },
  { why: 'daemon closed at once: SUCCESS, nothing set → static', daemon: { agiStatus: 'SUCCESS' }, dials: [ANSWERED], staticDials: 1, cause: 16 },
  { why: 'NOROUTE → static', daemon: { agiStatus: 'SUCCESS', set: { FAILOVER_STATUS: 'NOROUTE', FAILOVER_ATTEMPTS: '0' } }, dials: [ANSWERED], staticDials: 1, cause: 16 },
  { why: 'INVALID → Hangup(28), no Dial', daemon: { agiStatus: 'SUCCESS', set: { FAILOVER_STATUS: 'INVALID' } }, staticDials: 0, cause: 28 },
  {
    why: 'DIALING: the daemon died after a Dial → no Dial, the channel keeps its cause',
    daemon: { agiStatus: 'SUCCESS', set: { FAILOVER_STATUS: 'DIALING' }, cause: 19 },
    staticDials: 0,
    cause: 19,
  },
  {
    why: 'DIALING with AGISTATUS=FAILURE (a command failed after the Dial) → no Dial',
    daemon: { agiStatus: 'FAILURE', set: { FAILOVER_STATUS: 'DIALING' }, cause: 17 },
    staticDials: 0,
    cause: 17,
  },
  { why: 'ERROR (no cause known) → no Dial, Hangup() keeps the cause', daemon: { agiStatus: 'SUCCESS', set: { FAILOVER_STATUS: 'ERROR', FAILOVER_CAUSE: '' }, cause: 34 }, staticDials: 0, cause: 34 },
  { why: 'EXHAUSTED → no Dial, Hangup(34)', daemon: final('EXHAUSTED', '34'), staticDials: 0, cause: 34 },
  {
    why: 'CAPACITY: every carrier at its cap, no Dial placed → congestion, Hangup(34), never the static cascade',
    daemon: { agiStatus: 'SUCCESS', set: { FAILOVER_STATUS: 'CAPACITY', FAILOVER_CARRIER: '', FAILOVER_ATTEMPTS: '0', FAILOVER_CAUSE: '34', DIALSTATUS: 'CONGESTION' }, cause: 0 },
    dials: [ANSWERED],
    staticDials: 0,
    cause: 34,
  },
  { why: 'BUSY → no Dial, Hangup(17)', daemon: final('BUSY', '17'), staticDials: 0, cause: 17 },
  { why: 'NOANSWER after a 503 → no Dial, Hangup(19) not the sticky 34 (h_extension_view_hangup19)', daemon: final('NOANSWER', '19'), staticDials: 0, cause: 19 },
  { why: 'ANSWER → no Dial, Hangup(16)', daemon: final('ANSWER', '16'), staticDials: 0, cause: 16 },
  { why: 'CHANUNAVAIL 404 → no Dial, Hangup(1): VICIdial marks the lead disconnected', daemon: final('CHANUNAVAIL', '1'), staticDials: 0, cause: 1 },
  { why: 'CONGESTION (stopped after ringing) → no Dial, Hangup(34)', daemon: final('CONGESTION', '34'), staticDials: 0, cause: 34 },
  { why: 'CANCEL with the channel still running → no Dial, Hangup(16)', daemon: final('CANCEL', '16'), staticDials: 0, cause: 16 },
  {
    why: 'caller gone: AGISTATUS=HANGUP → the dialplan stops, nothing more runs',
    daemon: { agiStatus: 'HANGUP', set: { FAILOVER_STATUS: 'CANCEL', FAILOVER_CAUSE: '16' } },
    staticDials: 0,
    cause: null,
    end: 'caller-gone',
  },
  {
    why: 'leftover CONGESTION/34 from an earlier AGI run, daemon sets nothing → cleared first, static',
    vars: { FAILOVER_STATUS: 'CONGESTION', FAILOVER_CAUSE: '34', DIALSTATUS: 'CONGESTION' },
    daemon: { agiStatus: 'SUCCESS' },
    dials: [ANSWERED],
    staticDials: 1,
    cause: 16,
  },
  {
    why: 'leftover BUSY from an earlier run, daemon down → cleared first, static',
    vars: { FAILOVER_STATUS: 'BUSY', FAILOVER_CAUSE: '17' },
    daemon: { agiStatus: 'FAILURE' },
    dials: [ANSWERED],
    staticDials: 1,
    cause: 16,
  },
  {
    why: 'static: first carrier CHANUNAVAIL → the second is dialed',
    daemon: { agiStatus: 'FAILURE' },
    dials: [{ status: 'CHANUNAVAIL', cause: 20 }, ANSWERED],
    staticDials: 2,
    cause: 16,
  },
  {
    why: 'static: first carrier CONGESTION → the second is dialed',
    daemon: { agiStatus: 'FAILURE' },
    dials: [{ status: 'CONGESTION', cause: 34 }, { status: 'BUSY', cause: 17 }],
    staticDials: 2,
    cause: 17,
  },
  { why: 'static: first carrier BUSY → stop', daemon: { agiStatus: 'FAILURE' }, dials: [{ status: 'BUSY', cause: 17 }], staticDials: 1, cause: 17 },
  { why: 'static: first carrier NOANSWER → stop (it rang)', daemon: { agiStatus: 'FAILURE' }, dials: [{ status: 'NOANSWER' }], staticDials: 1, cause: 16 },
];

describe('dialplan decision table', () => {
  for (const s of SUBJECTS) {
    describe(s.name, () => {
      const plan = parseDialplan(s.text, CONTEXT.vicidial);

      it('uses only applications Asterisk 20 has', () => {
        for (const app of applicationsOf(plan)) assert.ok((APPLICATIONS as readonly string[]).includes(app), `${app} is not an Asterisk 20 application the files may use`);
      });

      for (const row of TABLE) {
        it(row.why, () => {
          const sc: Scenario = {
            exten: s.exten,
            context: s.context,
            daemon: row.daemon,
            callLog: { CAMPCUST: 'TESTCAMP' },
            ...(row.vars ? { vars: row.vars } : {}),
            ...(row.dials ? { dials: row.dials } : {}),
          };
          const run = runCall(plan, sc);
          assert.deepEqual(
            run.dials.map((d) => d.split(',')[0]),
            s.channels.slice(0, row.staticDials),
          );
          assert.equal(run.hangupCause, row.cause);
          assert.equal(run.end, row.end ?? 'hangup');
          const ours = run.agi.filter((a) => a.url.includes(':4573/'));
          assert.equal(ours.length, 1);
          assert.equal(ours[0]!.args[0], s.exten);
          if (s.flavor === 'vicidial') {
            assert.equal(run.agi[0]!.url, 'agi://127.0.0.1:4577/call_log', 'VICIdial\'s call_log runs first');
            assert.deepEqual(ours[0]!.args, [s.exten, 'TESTCAMP', ''], 'CAMPDTO is empty on an auto-dial call');
          }
        });
      }

      it('the h extension sees the daemon\'s DIALSTATUS with the cause of the same attempt', () => {
        const run = runCall(plan, { exten: s.exten, context: s.context, daemon: final('NOANSWER', '19') });
        assert.equal(run.vars.get('DIALSTATUS'), 'NOANSWER');
        assert.equal(run.hangupCause, 19);
      });

      it('CAPACITY: h sees DIALSTATUS CONGESTION with cause 34, and nothing was dialed', () => {
        const run = runCall(plan, { exten: s.exten, context: s.context, daemon: TABLE.find((r) => r.why.startsWith('CAPACITY'))!.daemon, dials: [ANSWERED] });
        assert.deepEqual([run.vars.get('DIALSTATUS'), run.hangupCause, run.dials.length], ['CONGESTION', 34, 0]);
      });

      it('the static cascade dials every carrier when each fails carrier-side, with its timers and options', () => {
        const fails = s.channels.map((): DialResult => ({ status: 'CONGESTION', cause: 34 }));
        const run = runCall(plan, { exten: s.exten, context: s.context, daemon: { agiStatus: 'FAILURE' }, dials: fails });
        assert.deepEqual(run.dials.map((d) => d.split(',')[0]), s.channels);
        assert.ok(run.dials.every((d) => /^[^,]+,\d+(\^\d+)?,[A-Za-z]*$/.test(d)), run.dials.join(' '));
        assert.equal(run.hangupCause, 34);
      });

      if (s.flavor !== 'vicidial') {
        it('a number with dialplan characters never reaches a static Dial (daemon down)', () => {
          for (const exten of ['9555&SIP/evil@x', '9555,60,tT', '91555${HANGUPCAUSE}', '9 555', '9"555', '95551)}', '9555\n']) {
            const run = runCall(plan, { exten, context: s.context, daemon: { agiStatus: 'FAILURE' } });
            assert.deepEqual(run.dials, [], exten);
            assert.equal(run.hangupCause, 28, exten);
          }
        });
      }
    });
  }
});
