/**
 * Decodes one Python bytes literal (`b'agi_network: yes\n'`), the form the capture probe wrote every chunk in
 * `<case>.agi.raw`. Only the escapes `repr(bytes)` produces are accepted; anything else throws, so a reader bug
 * can never pass off altered bytes as Asterisk's.
 */
export function decodePythonBytes(literal: string): Buffer {
  const m = /^b(['"])([\s\S]*)\1$/.exec(literal);
  if (!m) throw new Error(`not a Python bytes literal: ${literal.slice(0, 40)}`);
  const body = m[2] ?? '';
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch !== '\\') {
      const code = ch.charCodeAt(0);
      if (code > 0x7e || code < 0x20) throw new Error(`raw byte 0x${code.toString(16)} in a bytes repr (repr escapes it)`);
      out.push(code);
      continue;
    }
    const next = body[++i];
    switch (next) {
      case 'n':
        out.push(0x0a);
        break;
      case 'r':
        out.push(0x0d);
        break;
      case 't':
        out.push(0x09);
        break;
      case '\\':
      case "'":
      case '"':
        out.push(next.charCodeAt(0));
        break;
      case 'x': {
        const hex = body.slice(i + 1, i + 3);
        if (!/^[0-9a-f]{2}$/i.test(hex)) throw new Error(`bad \\x escape: \\x${hex}`);
        out.push(parseInt(hex, 16));
        i += 2;
        break;
      }
      default:
        throw new Error(`escape \\${next ?? ''} is not one repr(bytes) writes`);
    }
  }
  return Buffer.from(out);
}
