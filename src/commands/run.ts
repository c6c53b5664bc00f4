// `xdp-decap run`: the main job. Load, attach, export metrics until SIGINT/SIGTERM; SIGHUP or a file change reloads.
import { watch, type FSWatcher } from 'node:fs';
import { parseArgs } from 'node:util';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { ConfigError, loadConfigFile, parseConfig } from '../config/load.ts';
import type { DecapConfig } from '../config/schema.ts';
import { InterfaceHeldError } from '../plugin/interface-attacher.ts';
import { createPlugin } from '../plugin/plugin.ts';
import { createStderrLogger, type LogLevel } from '../plugin/logger.ts';
import { diagLogger } from '../metrics/meter-pipeline.ts';
import { setLibbpfPrint } from '../ffi/libbpf.ts';
import { EXIT, UsageError } from './usage.ts';

export const RUN_HELP = `Usage: xdp-decap run (--config FILE | --interface NAME...) [--mode generic|native|auto] [--log-level LEVEL]

Loads the XDP decap program, attaches it to each interface (through a bpf_link: if this process dies,
the kernel detaches it and traffic flows on encapsulated), and exports per-VNI OTLP metrics.
SIGINT/SIGTERM detach, send a last export and exit 0. SIGHUP, or a change of the config file, applies
ports, prefixes, excludes and interfaces without detaching.

Options:
  --config FILE        YAML or JSON config (see \`xdp-decap schema\`, examples/config.yaml)
  --interface NAME     attach to NAME (repeatable); replaces the config file's interfaces
  --mode MODE          mode for --interface: generic (default, runs before AF_PACKET taps), native, auto
  --log-level LEVEL    debug, info (default), warn, error
  -h, --help           this help

Environment: OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS,
OTEL_METRIC_EXPORT_INTERVAL, OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME (the config file wins).

Examples:
  xdp-decap run --interface ens1f0 --interface ens1f1
  OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 xdp-decap run --config /etc/xdp-decap/config.yaml`;

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

async function buildConfig(configPath: string | undefined, interfaces: string[] | undefined, mode: string | undefined): Promise<DecapConfig> {
  const base: DecapConfig = configPath ? await loadConfigFile(configPath) : parseConfig({}, 'defaults');
  if (!interfaces?.length) {
    if (mode) throw new UsageError('--mode applies to --interface; set per-interface modes in the config file');
    return base;
  }
  // Re-validate with the flags folded in, so a bad name or mode gets the same message as in a file.
  return parseConfig({ ...base, interfaces: interfaces.map((name) => ({ name, mode: mode ?? 'generic', replace: false })) }, '--interface/--mode');
}

export async function runCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      interface: { type: 'string', multiple: true },
      mode: { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(RUN_HELP);
    return EXIT.ok;
  }
  const level = values['log-level'] as LogLevel;
  if (!LOG_LEVELS.includes(level)) throw new UsageError(`--log-level ${level}: expected one of ${LOG_LEVELS.join(', ')}`);
  const config = await buildConfig(values.config, values.interface, values.mode);
  if (config.interfaces.length === 0) {
    throw new UsageError('nothing to attach: give --interface NAME or list interfaces in the config file (interfaces: [{name: ...}])');
  }
  const logger = createStderrLogger(level);
  // The application, not the library, decides where the OpenTelemetry SDK's own messages go: to our log.
  diag.setLogger(
    diagLogger(
      (line) => logger.warn(line),
      (line) => logger.debug(line),
    ),
    {
      logLevel: level === 'debug' ? DiagLogLevel.DEBUG : DiagLogLevel.WARN,
      suppressOverrideMessage: true,
    },
  );
  // libbpf's own messages (map creation, relocations, attach warnings): debug lines, for --log-level debug.
  if (level === 'debug') setLibbpfPrint((libbpfLevel, line) => logger.debug(`libbpf ${libbpfLevel}: ${line.replace(/^libbpf: /, '')}`));
  // Signal handlers first: a SIGTERM that lands while the program loads or attaches still ends cleanly.
  let stopSignal: ((signal: string) => void) | undefined;
  const stopRequested = new Promise<string>((resolve) => (stopSignal = resolve));
  process.once('SIGINT', () => stopSignal?.('SIGINT'));
  process.once('SIGTERM', () => stopSignal?.('SIGTERM'));
  // SIGHUP's default action is to terminate: ignore it until the plugin can reload.
  let onHangup = () => logger.info('SIGHUP: still starting; reload ignored');
  process.on('SIGHUP', () => onHangup());
  const plugin = createPlugin(config, { logger });
  // The plugin's own timers do not hold the process open (an agent hosting it decides that); the command does.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    await plugin.start();
  } catch (err) {
    clearInterval(keepAlive);
    // Nothing is left attached (start() undoes its attachments): one line, exit 2.
    if (err instanceof InterfaceHeldError) throw new UsageError(`${err.message} (nothing was attached)`);
    throw err;
  }

  const configPath = values.config;
  const fromFlags = Boolean(values.interface?.length);
  const reload = async (why: string) => {
    if (!configPath) return logger.info(`${why}: no --config file to reload`);
    try {
      const next = await buildConfig(configPath, fromFlags ? values.interface : undefined, values.mode);
      plugin.reload(next);
    } catch (err) {
      const msg = err instanceof ConfigError || err instanceof UsageError ? err.message : String(err);
      logger.error(`${why}: config not applied, keeping the running one: ${msg}`);
    }
  };
  onHangup = () => void reload('SIGHUP');
  let watcher: FSWatcher | undefined;
  let debounce: NodeJS.Timeout | undefined;
  if (configPath) {
    try {
      watcher = watch(configPath, () => {
        clearTimeout(debounce);
        debounce = setTimeout(() => void reload(`${configPath} changed`), 300);
      });
    } catch (err) {
      logger.warn(`cannot watch ${configPath} (${String(err)}); SIGHUP still reloads it`);
    }
  }

  const signal = await stopRequested;
  logger.info(`${signal}: detaching and sending a last export`);
  watcher?.close();
  clearTimeout(debounce);
  clearInterval(keepAlive);
  try {
    await plugin.shutdown();
    return EXIT.ok;
  } catch (err) {
    logger.error(`shutdown: ${String(err)}`);
    return 1;
  }
}
