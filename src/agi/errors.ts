/**
 * The protocol's failure modes as named errors, so a call flow can tell "Asterisk refused the command"
 * from "the socket is gone" from "we timed out" without string matching.
 */
export class AgiError extends Error {
  override name = 'AgiError';
}

/** `510 Invalid or unknown command` */
export class AgiInvalidCommandError extends AgiError {
  override name = 'AgiInvalidCommandError';
  constructor(readonly command: string) {
    super(`Asterisk answered 510 (invalid or unknown command) to: ${command}`);
  }
}

/** `511 Command Not Permitted on a dead channel or intercept routine` */
export class AgiDeadChannelError extends AgiError {
  override name = 'AgiDeadChannelError';
  constructor(readonly command: string) {
    super(`Asterisk answered 511 (dead channel) to: ${command}`);
  }
}

/** `520 Invalid command syntax` (one line, or the `520-` … `520 ` block with usage text). */
export class AgiSyntaxError extends AgiError {
  override name = 'AgiSyntaxError';
  constructor(
    readonly command: string,
    readonly usage: string,
  ) {
    super(`Asterisk answered 520 (invalid command syntax) to: ${command}`);
  }
}

/** The reply did not come within the command's timeout; the connection is closed since later replies would be misaligned. */
export class AgiTimeoutError extends AgiError {
  override name = 'AgiTimeoutError';
  constructor(
    readonly command: string,
    readonly timeoutMs: number,
  ) {
    super(`no reply within ${timeoutMs} ms to: ${command}`);
  }
}

/** The socket closed or failed before the reply arrived. */
export class AgiClosedError extends AgiError {
  override name = 'AgiClosedError';
  constructor(readonly command: string) {
    super(`connection closed before a reply to: ${command}`);
  }
}

/** A line from Asterisk that no version of res_agi.c sends. */
export class AgiProtocolError extends AgiError {
  override name = 'AgiProtocolError';
}

/** An argument that cannot be sent safely (CR, LF or NUL would end or split the command line). */
export class AgiUnsafeArgumentError extends AgiError {
  override name = 'AgiUnsafeArgumentError';
}

/**
 * The daemon itself gave up on the command in flight (shutdown grace over, Dial pending past agi.maxCallDuration):
 * what Asterisk did with the call is unknown, so the attempt is recorded as `interrupted` and never dialed again.
 */
export class AgiInterruptedError extends AgiError {
  override name = 'AgiInterruptedError';
  constructor(
    readonly command: string,
    readonly reason: string,
  ) {
    super(`${reason} (command in flight: ${command || 'none'})`);
  }
}
