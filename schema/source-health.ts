/** One source's connection check as the API shows it (ops.ts `Source.health`, console-ops.ts `testSource`). */
import type { SchemaApp } from './schema-app.js';
import { redact } from '../core/errors.js';

export interface SourceHealthView {
  ok: boolean;
  latencyMs: number;
  version: string | null;
  error: string | null;
}

/**
 * One source's connection check as the API shows it. Never throws: a source that cannot even be
 * opened is reported down like one that does not answer, so one bad source never turns the whole
 * `sources` list into null; messages are redacted.
 */
export async function sourceHealth(app: SchemaApp, name: string): Promise<SourceHealthView> {
  try {
    const r = await app.sources.connector(name).test();
    return { ok: r.ok, latencyMs: r.latencyMs, version: r.version ?? null, error: r.error ? redact(r.error.message) : null };
  } catch (err) {
    return { ok: false, latencyMs: 0, version: null, error: redact(err instanceof Error ? err.message : String(err)) };
  }
}

