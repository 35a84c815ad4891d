import { CrmlinkError } from '../core/errors.js';

/** 0 success, 1 the work failed, 2 bad usage or config (fix the command or the file). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Thrown by a command to end with a given exit code after it has printed its own report. */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof ExitCode) return err.code;
  if (err instanceof CrmlinkError && err.code.startsWith('CONFIG_')) return EXIT.usage;
  return EXIT.failed;
}
