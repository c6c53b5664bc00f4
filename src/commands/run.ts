// `xdp-decap run`: the main job. Load, attach, export metrics until SIGINT/SIGTERM; SIGHUP or a file change reloads.
import { DiagLogLevel, diag } from '@opentelemetry/api';
import { type ConfigWatcher, configFingerprint, watchConfigFile } from '../config/config-watcher.ts';
import { ConfigError, checkRunnable, configSource, loadConfigInput, parseConfig } from '../config/load.ts';
import { LOG_LEVELS, type LogLevel } from '../config/log-levels.ts';
import type { DecapConfig } from '../config/schema.ts';
import { setLibbpfPrint } from '../ffi/libbpf.ts';
import { diagLogger } from '../metrics/meter-pipeline.ts';
import { InterfaceHeldError } from '../plugin/interface-attacher.ts';
import { createStderrLogger } from '../plugin/logger.ts';
import { createPlugin } from '../plugin/plugin.ts';
import { command, defineCommand } from './command.ts';
import { EXIT, UsageError } from './usage.ts';

const RUN = defineCommand({
  name: 'run',
  summary: 'attach to capture interfaces and export per-VNI OTLP metrics (the main job)',
  description: `Loads the XDP decap program, attaches it to each interface (through a bpf_link: if this process dies,
the kernel detaches it and traffic flows on encapsulated), and exports per-VNI OTLP metrics. Needs --config
or --interface. SIGINT/SIGTERM detach, send a last export and exit 0. SIGHUP, or any change of the config
file (edited in place, replaced, or deleted and written again), reloads it by the rules a start obeys
(\`xdp-decap validate\`): ports, prefixes, excludes and interfaces apply without detaching; a config that
would not start is refused and the running one kept.`,
  options: {
    config: { type: 'string', value: 'FILE', help: 'YAML or JSON config (see `xdp-decap schema`, examples/config.yaml)' },
    interface: { type: 'string', value: 'NAME', multiple: true, help: "attach to NAME; replaces the config file's interfaces" },
    mode: { type: 'string', choices: ['generic', 'native', 'auto'], help: 'mode for --interface: generic runs before AF_PACKET taps (default generic)' },
    'log-level': { type: 'string', choices: LOG_LEVELS, help: "what to log (default: the config's logLevel, else info)" },
  },
  notes: [
    `Environment: OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS,
OTEL_METRIC_EXPORT_INTERVAL, OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME (the config file wins).`,
  ],
  examples: [
    'xdp-decap run --interface ens1f0 --interface ens1f1',
    'OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 xdp-decap run --config /etc/xdp-decap/config.yaml',
  ],
});

/**
 * The config `run` runs, at start and on every reload alike: the file (or none), the flags folded into its values
 * before the one validation, then what run needs beyond the schema (checkRunnable).
 */
async function buildConfig(configPath: string | undefined, interfaces: readonly string[], mode: string | undefined): Promise<DecapConfig> {
  if (!interfaces.length && mode) throw new UsageError('--mode applies to --interface; set per-interface modes in the config file');
  const input = configPath ? await loadConfigInput(configPath) : {};
  if (!interfaces.length)
    return checkRunnable(parseConfig(input, configPath ? configSource(configPath) : 'defaults'), configPath ? configSource(configPath) : 'run');
  // The flags over the file's values, validated together: a bad name or mode gets the same message as in a file.
  const withFlags = { ...(input as object), interfaces: interfaces.map((name) => ({ name, mode: mode ?? 'generic', replace: false })) };
  return checkRunnable(parseConfig(withFlags, '--interface/--mode'), '--interface/--mode');
}

export const runCommand = command(RUN, async ({ values }) => {
  if (!values.config && values.interface.length === 0) {
    throw new UsageError('nothing to attach: give --interface NAME or list interfaces in the config file (interfaces: [{name: ...}])');
  }
  // Taken before the read: a save made while xdp-decap starts is still seen by the watch below.
  const baseline = values.config && values.config !== '-' ? configFingerprint(values.config) : undefined;
  const config = await buildConfig(values.config, values.interface, values.mode);
  const level = (values['log-level'] ?? config.logLevel) as LogLevel;
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
  const reload = async (why: string) => {
    if (!configPath) return logger.info(`${why}: no --config file to reload`);
    try {
      const next = await buildConfig(configPath, values.interface, values.mode);
      if (plugin.reload(next).applied && !values['log-level']) logger.setLevel(next.logLevel);
    } catch (err) {
      const msg = err instanceof ConfigError || err instanceof UsageError ? err.message : String(err);
      logger.warn(`${why}: config not applied, keeping the running one: ${msg.replace(/\n/g, '; ')}`);
    }
  };
  onHangup = () => void reload('SIGHUP');
  let watcher: ConfigWatcher | undefined;
  if (configPath && configPath !== '-') {
    try {
      watcher = watchConfigFile(configPath, () => void reload(`${configPath} changed`), { baseline });
    } catch (err) {
      logger.warn(`cannot watch ${configPath} (${String(err)}); SIGHUP still reloads it`);
    }
  }

  const signal = await stopRequested;
  logger.info(`${signal}: detaching and sending a last export`);
  watcher?.close();
  clearInterval(keepAlive);
  try {
    await plugin.shutdown();
    return EXIT.ok;
  } catch (err) {
    logger.error(`shutdown: ${String(err)}`);
    return 1;
  }
});
