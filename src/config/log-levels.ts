// The log levels, least to most severe: the one list the config schema, the CLI and the logger take them from.
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
