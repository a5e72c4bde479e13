/**
 * Types for asterisk-manager 0.2.0 (CommonJS, no bundled types), written from lib/ami.js.
 * Only what src/health/ami-client.ts uses; everything the library parses arrives with lower-cased keys.
 */
declare module 'asterisk-manager' {
  namespace AsteriskManager {
    /** A header value: duplicate keys become arrays; `Variable`/`ChanVariable` become objects. */
    type RawValue = string | string[] | Record<string, string>;
    /** One parsed message (response or event), keys lower-cased, values untrimmed. */
    type RawMessage = Record<string, RawValue | undefined>;
    /** Keys are lower-cased and their first letter capitalised on the wire; values are sent as-is (no CR/LF stripping). */
    type ActionFields = Record<string, string | number | undefined>;
    /** `err` is the whole response when it says `Response: Error`. */
    type ActionCallback = (err: RawMessage | undefined, res: RawMessage) => void;

    interface Options {
      port: number | undefined;
      host: string;
      username: string;
      password: string;
      events: boolean;
    }

    interface Manager {
      readonly options: Options;
      /** Opens the socket unless one is open; `callback` runs on TCP connect (not on login). */
      connect(port: number, host: string, callback?: (err: null) => void): void;
      /** Sends Login with the constructor's credentials; `callback(err)` only when Asterisk answers. */
      login(callback?: (err?: RawMessage) => void): void;
      /** Sends one action (held, not sent, until a login succeeded); returns the ActionID used. */
      action(fields: ActionFields, callback?: ActionCallback): string;
      /** `end()`s the socket only when it is open; a socket still connecting is left alone. */
      disconnect(callback?: () => void): void;
      isConnected(): boolean;

      on(event: 'managerevent', listener: (event: RawMessage) => void): this;
      on(event: 'error', listener: (err: Error) => void): this;
      on(event: 'connect' | 'close' | 'end', listener: () => void): this;
      on(event: string, listener: (...args: unknown[]) => void): this;
      once(event: string, listener: (...args: unknown[]) => void): this;
      removeListener(event: string, listener: (...args: unknown[]) => void): this;
      removeAllListeners(event?: string): this;
      listeners(event: string): ((...args: unknown[]) => void)[];
    }
  }

  /** With a port it connects (and logs in) at once; without one it only builds the object. */
  function AsteriskManager(
    port?: number,
    host?: string,
    username?: string,
    password?: string,
    events?: boolean,
  ): AsteriskManager.Manager;

  export = AsteriskManager;
}
