import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * JSON logs on stdout (one object per line, for any log shipper). Every line about a
 * Startup carries `startup` so one startup's story can be filtered out of the stream.
 */
export function createLogger(options: { level?: LevelWithSilent; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'startup-factory' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Insurance for the rule that secrets never reach logs: credentials under these names are masked wherever a caller passes them.
      redact: {
        paths: ['authorization', 'apiKey', 'token', 'password', '*.authorization', '*.apiKey', '*.token', '*.password', '*.headers.authorization', '*.headers["x-api-key"]'],
        censor: '[redacted]',
      },
    },
    options.destination ?? process.stdout,
  );
}

export function startupLogger(logger: Logger, startup: string): Logger {
  return logger.child({ startup });
}
