// One-line log records on stderr (journald adds its own timestamps); the Logger interface lets an agent pass its own.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** XDP_DECAP_LOG_FORMAT=json: one JSON object a line ({"level","msg"}), what the Collector receiver parses into its logger. */
export const LOG_FORMAT_ENV = 'XDP_DECAP_LOG_FORMAT';

/** Logs `level: message` lines (or JSON lines, see LOG_FORMAT_ENV) at or above `minimum` to stderr. */
export function createStderrLogger(
  minimum: LogLevel = 'info',
  write = (line: string) => process.stderr.write(line),
  env: NodeJS.ProcessEnv = process.env,
): Logger {
  const json = env[LOG_FORMAT_ENV] === 'json';
  const log = (level: LogLevel) => (message: string) => {
    if (ORDER[level] < ORDER[minimum]) return;
    write(json ? `${JSON.stringify({ level, msg: message })}\n` : `xdp-decap ${level}: ${message}\n`);
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
