// One-line log records on stderr (journald adds its own timestamps); injectable so tests can capture them.

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

/** Collects records in memory (tests). */
export function createMemoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: LogLevel) => (message: string) => void lines.push(`${level}: ${message}`);
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
