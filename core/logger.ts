import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs on stderr (stdout stays for command output). Secrets never reach a log:
 * connection settings are redacted by path.
 */
export function createLogger(level: string = process.env.CRMLINK_LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      level,
      base: { app: 'crmlink' },
      redact: { paths: ['*.password', '*.connection.password', 'connection.password', 'password', '*.apiKey', 'authorization'], censor: '***' },
    },
    pino.destination(2),
  );
}

export const silentLogger: Logger = pino({ level: 'silent' });
