import { CrmlinkError, type ErrorCode, type ErrorContext } from '../../core/errors.js';

/**
 * A backup, verification or restore that failed. `context.file` names the backup (or the hub file)
 * concerned; `code` says how to react: VALIDATION_FAILED (the backup is damaged or does not fit
 * this hub), NOT_FOUND, LOCKED (a sync run holds its lock: try again later), NOT_AVAILABLE (a tool
 * such as pg_dump is missing), DB_ERROR (the copy itself failed).
 */
export class BackupError extends CrmlinkError {
  constructor(code: ErrorCode, message: string, context: ErrorContext & { file?: string } = {}, options: { cause?: unknown } = {}) {
    super(code, message, context, options);
  }
}
