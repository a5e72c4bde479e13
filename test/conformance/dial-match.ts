/**
 * Compares the daemon's Dial data with a captured one. The carrier (channel with the number taken out) and the
 * timers must match; when the options match too, so must every byte. The first captures dialed 15551234567 with
 * no options while their header's extension (what the daemon dials) is 15552345678, so there only the carrier
 * and timers can be compared.
 */

/** The number in a captured Dial: its first run of ten or more digits. */
export function numberIn(dial: string): string {
  return /\d{10,}/.exec(dial)?.[0] ?? '';
}

interface DialParts {
  readonly channels: readonly string[];
  readonly timers: string;
  readonly options: string;
}

/** app_dial's data: `<chan>[&<chan>…][,<timeout>[,<options>]]`; channels with the number replaced by `${number}`. */
export function dialParts(data: string, num: string): DialParts {
  const [chans = '', timers = '', ...rest] = data.split(',');
  const channels = chans.split('&').map((c) => (num ? c.split(num).join('${number}') : c));
  return { channels, timers, options: rest.join(',') };
}

export interface DialMatch {
  readonly ok: boolean;
  /** What was compared, or why it differs. */
  readonly detail: string;
}

export function matchDial(daemonData: string, daemonNumber: string, captured: string): DialMatch {
  const capNumber = numberIn(captured);
  const d = dialParts(daemonData, daemonNumber);
  const c = dialParts(captured, capNumber);
  if (d.channels.join('&') !== c.channels.join('&')) {
    return { ok: false, detail: `names ${JSON.stringify(d.channels.join('&'))}, the capture's Dial names ${JSON.stringify(c.channels.join('&'))} (another carrier)` };
  }
  if (d.timers !== c.timers) return { ok: false, detail: `timers ${JSON.stringify(d.timers)}, the capture's ${JSON.stringify(c.timers)}` };
  if (d.options !== c.options) return { ok: true, detail: `same carrier and timers; options ${JSON.stringify(d.options)} vs captured ${JSON.stringify(c.options)}, bytes not compared` };
  if (daemonNumber !== capNumber) return { ok: true, detail: `same carrier, timers and options; number ${daemonNumber} vs captured ${capNumber}` };
  if (daemonData !== captured) return { ok: false, detail: `bytes ${JSON.stringify(daemonData)} differ from the capture's ${JSON.stringify(captured)}` };
  return { ok: true, detail: 'same bytes' };
}
