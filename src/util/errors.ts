// Typed errors with stable codes: tests assert the code, logs and the CLI print the message.
export type ErrorCode =
  | 'TIERDNS_E_USAGE'
  | 'TIERDNS_E_BAD_IP'
  | 'TIERDNS_E_BAD_NAME'
  | 'TIERDNS_E_NOT_IN_ZONE'
  | 'TIERDNS_E_NOT_SERVABLE'
  | 'TIERDNS_E_BAD_VALUE'
  | 'TIERDNS_E_BAD_DURATION'
  | 'TIERDNS_E_NO_POOL'
  | 'TIERDNS_E_NO_MEMBER'
  | 'TIERDNS_E_EXISTS'
  | 'TIERDNS_E_ZONE'
  | 'TIERDNS_E_STORE_URL'
  | 'TIERDNS_E_STORE_UNREACHABLE'
  | 'TIERDNS_E_STORE_MISSING'
  | 'TIERDNS_E_POOL_FILE'
  /** A change reached the master but no replica confirmed it (docs/store.md "Redis Sentinel"). */
  | 'TIERDNS_E_STORE_UNCONFIRMED'
  /** The Redis ACL user lacks a permission tierdns needs (docs/store.md "Redis ACL"). */
  | 'TIERDNS_E_STORE_PERMISSION'
  | 'TIERDNS_E_STORE_DATA'
  | 'TIERDNS_E_STORE_VERSION'
  | 'TIERDNS_E_STORE_LOST'
  | 'TIERDNS_E_BIND'
  | 'TIERDNS_E_TIMEOUT'
  | 'TIERDNS_E_INTERNAL';

export class TierdnsError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'TierdnsError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
