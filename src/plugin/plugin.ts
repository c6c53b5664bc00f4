// The live plugin: load the program, keep it attached to the configured interfaces, export metrics, reload config.
import type { MeterProvider } from '@opentelemetry/api';
import { capacitiesFromConfig, dataplaneFromConfig } from '../config/dataplane.ts';
import { checkRunnable, settingsNeedingRestart } from '../config/load.ts';
import type { DecapConfig } from '../config/schema.ts';
import type { ActiveFlowCount } from '../decode/records.ts';
import { programIdOfFd } from '../ffi/xdp.ts';
import { registerDecapMetrics } from '../metrics/decap-metrics.ts';
import { InterfaceSeriesLedger } from '../metrics/interface-series.ts';
import { createMeterPipeline, redactUrl } from '../metrics/meter-pipeline.ts';
import { type ResolvedMetricsSettings, resolveMetricsSettings } from '../metrics/otel-settings.ts';
import { metricsFdFromEnv } from '../metrics/pipe-exporter.ts';
import { DecapProgram } from '../program/decap-program.ts';
import { FlowExpiry } from '../program/flow-expiry.ts';
import { InterfaceAttacher, InterfaceHeldError, type InterfaceStatus } from './interface-attacher.ts';
import { createStderrLogger, type Logger } from './logger.ts';

export interface PluginOptions {
  logger?: Logger;
  /** Host the metrics on this provider instead of building an OTLP pipeline (an agent hosting us in-process). */
  meterProvider?: MeterProvider;
  /** How often interfaces are re-checked (disappeared, came back). */
  interfacePollMillis?: number;
}

export interface ReloadResult {
  applied: boolean;
  /** Settings that changed but need a restart; when non-empty nothing was applied. */
  needsRestart: string[];
}

export interface DecapPlugin {
  start(): Promise<void>;
  /** Applies a new config without detaching; refuses (keeping the old one) if it needs a restart. */
  reload(config: DecapConfig): ReloadResult;
  interfaces(): InterfaceStatus[];
  /**
   * Detaches and releases everything; safe to call twice. With its own pipeline (no `meterProvider`), sends a
   * last export first. Hosted on an agent's provider it does not collect: the agent's last collection before
   * this call is the last to carry the counters (flush the provider first if the final values matter).
   */
  shutdown(): Promise<void>;
}

/** The programmatic entry an agent calls: `createPlugin(config)` then `start()` / `shutdown()`. */
export function createPlugin(initialConfig: DecapConfig, options: PluginOptions = {}): DecapPlugin {
  const logger = options.logger ?? createStderrLogger();
  let config = initialConfig;
  let program: DecapProgram | undefined;
  let attacher: InterfaceAttacher | undefined;
  let pipeline: ReturnType<typeof createMeterPipeline> | undefined;
  let metrics: { unregister(): void } | undefined;
  let poll: NodeJS.Timeout | undefined;
  let expiry: FlowExpiry | undefined;
  let stopped = false;

  const idleNs = () => BigInt(Math.round(config.flowIdleTimeoutSeconds * 1e9));
  // Series are named by interface, whatever its ifindex and whether it is attached right now (even after a detach).
  const ledger = new InterfaceSeriesLedger();

  function readMetricsInput() {
    if (!program) throw new Error('plugin is not started');
    const counters = program.readCounters();
    let activeFlows: ActiveFlowCount[] = [];
    // A collection only reads, and not the flow table: `expiry` (its own timer) deletes idle flows and counts
    // what it keeps; the gauge adds the new flows the counters show since.
    if (config.trackFlows) activeFlows = program.flowsInTable(counters);
    const lost = Object.entries(counters.lost).filter(([, n]) => n > 0);
    if (lost.length > 0) logger.debug(`map updates lost so far: ${lost.map(([m, n]) => `${m}=${n}`).join(' ')}`);
    return { counters, activeFlows };
  }

  return {
    async start() {
      if (program) throw new Error('plugin already started');
      checkRunnable(config, 'config');
      const settings = resolveMetricsSettings(config);
      program = DecapProgram.load(dataplaneFromConfig(config), capacitiesFromConfig(config));
      logger.info(program.buildNote);
      try {
        const loaded = program;
        attacher = new InterfaceAttacher(program.program.fd, programIdOfFd(program.program.fd), logger, (ifindex, name) =>
          ledger.claim(ifindex, name, () => loaded.readCounters()),
        );
        attacher.setInterfaces(config.interfaces);
        refuseInterfacesHeldByDecap(attacher);
        if (!options.meterProvider) pipeline = createMeterPipeline(settings, (line) => logger.warn(line));
        const provider = options.meterProvider ?? pipeline!.meterProvider;
        metrics = registerDecapMetrics({
          meterProvider: provider,
          read: () => ledger.apply(readMetricsInput()),
          maxVniSeries: settings.maxVniSeries,
          interfaceName: (seriesId) => ledger.nameOf(seriesId),
        });
        poll = pollInterfaces(attacher, logger, options.interfacePollMillis ?? 1000);
        expiry = startFlowExpiry(program, () => ({ enabled: config.trackFlows, idleNs: idleNs() }), logger);
        if (!options.meterProvider) logExportTarget(settings, logger);
      } catch (err) {
        expiry?.stop();
        attacher?.detachAll();
        program.close();
        program = undefined;
        throw err;
      }
    },

    reload(next) {
      if (!program || !attacher) throw new Error('plugin is not started');
      // The rules a start obeys: a config that could not start is refused whole (ConfigError), the running one kept.
      checkRunnable(next, 'reloaded config');
      const needsRestart = settingsNeedingRestart(config, next);
      if (needsRestart.length > 0) {
        logger.warn(
          `config change not applied (keeping the running config): ${needsRestart.join(', ')} cannot change while running; restart xdp-decap to apply it`,
        );
        return { applied: false, needsRestart };
      }
      program.applySettings(dataplaneFromConfig(next));
      attacher.setInterfaces(next.interfaces);
      config = next;
      logger.info('config reloaded: ports, prefixes, excludes and interfaces applied without detaching');
      return { applied: true, needsRestart: [] };
    },

    interfaces() {
      return attacher?.status() ?? [];
    },

    async shutdown() {
      if (stopped) return;
      stopped = true;
      if (poll) clearInterval(poll);
      expiry?.stop();
      // Detach first: traffic flows on, encapsulated, whatever happens to the export below.
      attacher?.detachAll();
      // Our own pipeline's shutdown collects and exports one last time (the maps are still open, the series
      // keep their interface names after the detach), then stops. An agent's provider is the agent's to flush.
      try {
        await pipeline?.shutdown();
      } catch (err) {
        logger.warn(`last metrics export failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      metrics?.unregister();
      program?.close();
      program = undefined;
    },
  };
}

/** A start that finds xdp-decap's own program on an interface (another run of it) stops, in one line. */
function refuseInterfacesHeldByDecap(attacher: InterfaceAttacher): void {
  const held = attacher.status().flatMap((s) => (s.status.state === 'refused' && s.status.heldByDecap ? [`interface ${s.name}: ${s.status.reason}`] : []));
  if (held.length > 0) throw new InterfaceHeldError(held.join('; '));
}

/** Checks the interfaces every `millis` (gone, back with another ifindex, taken): never throws, logs why it could not. */
function pollInterfaces(attacher: InterfaceAttacher, logger: Logger, millis: number): NodeJS.Timeout {
  const poll = setInterval(() => {
    try {
      attacher.poll();
    } catch (err) {
      logger.error(`interface check failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }, millis);
  poll.unref();
  return poll;
}

/** Idle flows deleted on their own timer (never by a metrics collection), what each pass did at debug level. */
function startFlowExpiry(program: DecapProgram, settings: () => { enabled: boolean; idleNs: bigint }, logger: Logger): FlowExpiry {
  const expiry = new FlowExpiry(
    program,
    settings,
    (pass) => {
      if (pass.expired > 0) logger.debug(`flow expiry: ${pass.expired} idle flows deleted, ${pass.kept} kept`);
    },
    (err) => logger.error(`flow expiry failed: ${err instanceof Error ? err.message : String(err)}`),
  );
  expiry.start();
  return expiry;
}

/** Where the plugin's own pipeline sends the metrics, and how often. */
function logExportTarget(settings: ResolvedMetricsSettings, logger: Logger): void {
  const every = `every ${settings.exportIntervalMillis / 1000}s`;
  if (metricsFdFromEnv(process.env) !== undefined) logger.info(`exporting OTLP metrics to the Collector receiver's pipe ${every}`);
  else logger.info(`exporting OTLP metrics to ${redactUrl(settings.endpoint)} ${every} (${settings.encoding})`);
}
