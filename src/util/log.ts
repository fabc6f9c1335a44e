import type { LoggerOptions } from 'pino';

// Logged errors keep their type, code, message and stack, never their other fields: a Redis
// client error carries the command it answered, and for AUTH/HELLO that holds the password.

interface LoggedError {
  type: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: LoggedError | string;
}

/** An error as a log entry: type, code, message, stack and cause, nothing the error happens to carry. */
export function loggedError(err: unknown, depth = 0): LoggedError | string {
  if (!(err instanceof Error)) return String(err);
  const out: LoggedError = { type: err.name, message: err.message };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') out.code = code;
  if (err.stack !== undefined) out.stack = err.stack;
  if (err.cause !== undefined && depth < 3) out.cause = loggedError(err.cause, depth + 1);
  return out;
}

/** Options every tierdns logger starts from. */
export const LOG_OPTIONS: LoggerOptions = { serializers: { err: loggedError } };
