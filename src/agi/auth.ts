import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AgiRequest } from './request.js';

/**
 * The optional shared key of agi.sharedKey / agi.sharedKeyFile. FastAGI has no authentication and allowedPeers
 * checks only the source address, so any local process (a web server on a VICIdial box) could pose as Asterisk
 * and report fake carrier failures. With a key, Asterisk must send it in the AGI URL: `agi://host:port/script?key=…`.
 */

/** What a key may hold: it is printed into an AGI() URL in the dialplan, where `,` `)` `$` `;` `&` would break it. */
export const KEY_PATTERN = /^[A-Za-z0-9._~-]{16,256}$/;

/** `agi.sharedKey`, else the first line of `agi.sharedKeyFile`, else '' (no key). The error names the file, never its content. */
export function resolveSharedKey(agi: { readonly sharedKey: string; readonly sharedKeyFile: string }): string {
  let key = agi.sharedKey;
  if (!key && agi.sharedKeyFile) {
    try {
      key = (readFileSync(agi.sharedKeyFile, 'utf8').split(/\r?\n/)[0] ?? '').trim();
    } catch (err) {
      throw new Error(`cannot read agi.sharedKeyFile ${agi.sharedKeyFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (!key) throw new Error(`agi.sharedKeyFile ${agi.sharedKeyFile} is empty`);
  }
  if (key && !KEY_PATTERN.test(key)) {
    throw new Error('agi.sharedKey must be 16 to 256 characters of A-Z a-z 0-9 . _ ~ - (it goes into the AGI URL of the dialplan)');
  }
  return key;
}

/** Constant time whatever the lengths: both sides are hashed to 32 bytes first, so a wrong length tells nothing either. */
export function keyMatches(expected: string, given: string | undefined): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given ?? '').digest();
  return timingSafeEqual(a, b) && given !== undefined;
}

const KEY_IN_URL = /([?&]key=)[^&]*/g;

/** The request as the call flow and its logs see it: no key in params, the URL or the raw headers. */
export function withoutKey(req: AgiRequest): AgiRequest {
  if (!req.params.has('key') && !/[?&]key=/.test(req.request)) return req;
  const strip = (s: string): string => s.replace(KEY_IN_URL, '$1[redacted]');
  const params = new Map(req.params);
  params.delete('key');
  return { ...req, params, request: strip(req.request) };
}
