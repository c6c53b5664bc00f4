// One-line log records on stderr (journald adds its own timestamps); the Logger interface lets an agent pass its own.

import { LOG_LEVELS, type LogLevel } from '../config/log-levels.ts';

export type { LogLevel } from '../config/log-levels.ts';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** The stderr logger `run` uses: its level can change while it runs (a reloaded config's logLevel). */
export interface StderrLogger extends Logger {
  setLevel(level: LogLevel): void;
}

const ORDER = Object.fromEntries(LOG_LEVELS.map((level, i) => [level, i])) as Record<LogLevel, number>;

/** XDP_DECAP_LOG_FORMAT=json: one JSON object a line ({"level","msg"}), what the Collector receiver parses into its logger. */
export const LOG_FORMAT_ENV = 'XDP_DECAP_LOG_FORMAT';

/** Logs `level: message` lines (or JSON lines, see LOG_FORMAT_ENV) at or above `minimum` to stderr. */
export function createStderrLogger(
  minimum: LogLevel = 'info',
  write = (line: string) => process.stderr.write(line),
  env: NodeJS.ProcessEnv = process.env,
): StderrLogger {
  const json = env[LOG_FORMAT_ENV] === 'json';
  let threshold = minimum;
  const log = (level: LogLevel) => (message: string) => {
    if (ORDER[level] < ORDER[threshold]) return;
    write(json ? `${JSON.stringify({ level, msg: message })}\n` : `xdp-decap ${level}: ${message}\n`);
  };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    setLevel(level) {
      threshold = level;
    },
  };
}
