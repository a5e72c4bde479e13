import convict from 'convict';

/**
 * Strict formats for the daemon settings. convict's own turn `"no"` into true (anything but "false" is true),
 * `"5abc"` into 5 and `"half"` into NaN, and let NaN through: a setting must never be read as something else, so
 * these accept a value that means exactly one thing, or refuse it with a message that says what would do.
 */

const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = { true: true, false: false, yes: true, no: false, on: true, off: false, '1': true, '0': false };

/** What a string from the environment (or a JSON string) means, if anything; else the string is kept and refused. */
function wordToBoolean(v: string): boolean | string {
  return BOOLEAN_WORDS[v.trim().toLowerCase()] ?? v;
}

function wholeFrom(v: string): number | string {
  return /^\s*\d+\s*$/.test(v) ? Number(v) : v;
}

function numberFrom(v: string): number | string {
  return /^\s*-?(\d+(\.\d*)?|\.\d+)\s*$/.test(v) ? Number(v) : v;
}

const isWhole = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export const STRICT_FORMATS = {
  bool: {
    validate(v: unknown): void {
      if (typeof v !== 'boolean') throw new Error('must be true or false (as text also yes/no, on/off, 1/0)');
    },
    coerce: wordToBoolean,
  },
  whole: {
    validate(v: unknown): void {
      if (!isWhole(v)) throw new Error('must be a whole number, 0 or more');
    },
    coerce: wholeFrom,
  },
  'tcp-port': {
    validate(v: unknown): void {
      if (!isWhole(v) || v > 65535) throw new Error('must be a port number from 0 to 65535');
    },
    coerce: wholeFrom,
  },
  ratio: {
    validate(v: unknown): void {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) throw new Error('must be a number from 0 to 1 (a share: 0.5 is half)');
    },
    coerce: numberFrom,
  },
  'positive-ms': {
    validate(v: unknown): void {
      if (!isWhole(v) || v < 1) throw new Error('must be a whole number of ms, 1 or more');
    },
    coerce: wholeFrom,
  },
  percent: {
    validate(v: unknown): void {
      if (!isWhole(v) || v > 100) throw new Error('must be a whole number from 0 to 100');
    },
    coerce: wholeFrom,
  },
};

convict.addFormats(STRICT_FORMATS);
