// One-line log records on stderr (journald adds its own timestamps); the Logger interface lets an agent pass its own.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Logs `level: message` lines at or above `minimum` to stderr. */
export function createStderrLogger(minimum: LogLevel = 'info', write = (line: string) => process.stderr.write(line)): Logger {
  const log = (level: LogLevel) => (message: string) => {
    if (ORDER[level] >= ORDER[minimum]) write(`xdp-decap ${level}: ${message}\n`);
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
