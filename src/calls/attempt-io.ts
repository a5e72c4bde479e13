import type { AgiChannel } from '../agi/channel.js';
import type { AgiReply } from '../agi/reply.js';
import {
  ARM_EXPRESSION,
  ARMED_STATUS,
  isSafeKey,
  legExpression,
  OUTCOME_EXPRESSION,
  OUTCOME_WITH_LEG_EXPRESSION,
  OUTCOME_SEPARATOR,
  parseChannelBefore,
  parseLeg,
  parseOutcomeFields,
  parseOutcomeWithLeg,
  type AttemptOutcome,
  type ChannelBefore,
  type LegOutcome,
} from '../routing/outcome.js';

/** What one Dial came to: its outcome when Asterisk answered every command, else the error that cut it short. */
export type AttemptRun =
  | { readonly ok: true; readonly outcome: AttemptOutcome; readonly endedAt: number }
  | { readonly ok: false; readonly error: Error; readonly endedAt: number };

/**
 * The channel before the first Dial, armed in the same round trip (ARM_EXPRESSION): a second AGI run on a channel
 * starts with the first run's cause and keys (fact 12), and from here on the dialplan reads DIALING. Only where
 * SET() is missing (no func_logic) does arming take a second command; `armed` says SET() works, for the result variables.
 */
export async function armChannel(channel: AgiChannel): Promise<ChannelBefore> {
  const before = parseChannelBefore((await channel.getFullVariable(ARM_EXPRESSION)).data ?? '');
  if (!before.armed) await channel.setVariable('FAILOVER_STATUS', ARMED_STATUS);
  return before;
}

/** Keys that hold something a dialplan function call must not see are left out, not read. */
async function readLegs(channel: AgiChannel, keys: readonly string[]): Promise<LegOutcome[]> {
  const legs: LegOutcome[] = [];
  for (const key of keys) {
    if (!isSafeKey(key)) continue;
    const r = await channel.getFullVariable(legExpression(key));
    legs.push(parseLeg(key, r.data ?? ''));
  }
  return legs;
}

/**
 * One attempt on the wire: Dial (which holds for the whole phone call, so no timeout), then the outcome in one
 * read and each leg's cause by name; `withIf` (the arm showed func_logic loaded) folds a lone leg into that read. HangupCauseClear must have run before, so the keys are this attempt's only.
 * `callerLeft` is taken when the outcome read answers: Asterisk writes `HANGUP` after Dial's reply and before the
 * reply to the next command (res_agi.c:4362-4374), so a hangup during this Dial has arrived by then.
 * Not an async function: its frame would stay suspended, with its whole register file, for the whole phone call;
 * the Dial's reply is waited on by two small handlers, and the reads after it run in readOutcome.
 */
export function runAttempt(
  channel: AgiChannel,
  dialData: string,
  causeBefore: number | null,
  now: () => number,
  withIf = false,
): Promise<AttemptRun> {
  const failed = (err: unknown): AttemptRun => ({ ok: false, error: err as Error, endedAt: now() });
  let dial: Promise<AgiReply>;
  try {
    dial = channel.exec('Dial', dialData, null);
  } catch (err) {
    return Promise.resolve(failed(err));
  }
  return dial.then((reply) => readOutcome(channel, reply.resultInt, causeBefore, now(), withIf), failed);
}

/** The reads after a Dial returned: the outcome, then each leg's cause unless the outcome read carried it. */
async function readOutcome(channel: AgiChannel, dialResult: number | null, causeBefore: number | null, endedAt: number, withIf: boolean): Promise<AttemptRun> {
  try {
    const expanded = (await channel.getFullVariable(withIf ? OUTCOME_WITH_LEG_EXPRESSION : OUTCOME_EXPRESSION)).data ?? '';
    const { fields, leg } = withIf ? parseOutcomeWithLeg(expanded) : { fields: parseOutcomeFields(expanded), leg: null };
    const callerLeft = channel.hungUp;
    const legs = leg !== null ? [leg] : await readLegs(channel, fields.keys);
    // every key written out: a spread followed by more keys defines each of them through V8's runtime, every time
    const outcome: AttemptOutcome = {
      dialResult,
      callerLeft,
      dialStatus: fields.dialStatus,
      channelCause: fields.channelCause,
      channelCauseBefore: causeBefore,
      ringMs: fields.ringMs,
      progressMs: fields.progressMs,
      answeredMs: fields.answeredMs,
      keys: fields.keys,
      legs,
    };
    return { ok: true, outcome, endedAt };
  } catch (err) {
    return { ok: false, error: err as Error, endedAt };
  }
}
