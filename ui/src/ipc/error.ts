// The error every IPC call can fail with, as the UI handles it. The shell
// sends `{code, message, field}`; the UI switches on `code` and `field` and shows
// `message` as it is, never parsing it.

import type { ErrorCode, IpcError } from './bindings';

export type { ErrorCode, IpcError };

/** A failed command, thrown by the helpers in `api.ts`. */
export class CommandError extends Error implements IpcError {
  readonly code: ErrorCode;
  readonly field: string | null;

  constructor(error: IpcError) {
    super(error.message);
    this.name = 'CommandError';
    this.code = error.code;
    this.field = error.field ?? null;
  }
}

function isIpcError(value: unknown): value is IpcError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

/**
 * Turns anything a command rejected with into a `CommandError`. Besides the
 * shell's own `IpcError`, Tauri itself rejects with a plain string when it
 * cannot deserialize the arguments or the command is not allowed.
 */
export function toCommandError(value: unknown): CommandError {
  if (value instanceof CommandError) return value;
  if (isIpcError(value)) return new CommandError(value);
  const message = value instanceof Error ? value.message : String(value);
  return new CommandError({ code: 'internal', message, field: null });
}

/** What a form shows: messages next to the fields it has, the rest on top. */
export interface FormErrors {
  fields: Record<string, string>;
  general: string | null;
}

export const noErrors: FormErrors = { fields: {}, general: null };

/**
 * Places an error in a form: `invalid` and `conflict` errors that name one of
 * `fields` go next to that field; everything else is the form's general error.
 */
export function formErrors(error: unknown, fields: readonly string[]): FormErrors {
  const err = toCommandError(error);
  if (
    (err.code === 'invalid' || err.code === 'conflict') &&
    err.field &&
    fields.includes(err.field)
  ) {
    return { fields: { [err.field]: err.message }, general: null };
  }
  return { fields: {}, general: err.message };
}
