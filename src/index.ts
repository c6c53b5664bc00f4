// Public API of the xdp-decap package: the plugin entry, config, the program, replay, metrics and decoders.
export { createPlugin, type DecapPlugin, type PluginOptions, type ReloadResult } from './plugin/plugin.ts';
export { createStderrLogger, type Logger, type LogLevel } from './plugin/logger.ts';
export { InterfaceAttacher, InterfaceHeldError, type AttachMode, type InterfaceRequest, type InterfaceStatus } from './plugin/interface-attacher.ts';
export { ConfigError, DEFAULT_CONFIG, configJsonSchema, settingsNeedingRestart, loadConfigFile, parseConfig } from './config/load.ts';
export { configSchema, type DecapConfig, type DecapConfigInput } from './config/schema.ts';
export { resolveMetricsSettings, type ResolvedMetricsSettings } from './config/otel-env.ts';
export { parsePrefix, lpmKey, type Prefix } from './config/prefixes.ts';
export { DecapProgram, DEFAULT_CAPACITIES, DEFAULT_DATAPLANE, bpfObjectPath, type DataplaneSettings, type MapCapacities } from './program/decap-program.ts';
export { replayCapture, REPLAY_REFUSED, type ReplayOptions, type ReplaySummary, type ReplayVni } from './replay/replay.ts';
export { CaptureError, PcapReader, PcapWriter, type PcapRecord, type TimestampPrecision } from './replay/pcap.ts';
export { registerDecapMetrics, type DecapMetrics, type DecapMetricsOptions, type MetricsInput } from './metrics/decap-metrics.ts';
export { createMeterPipeline, type MeterPipeline } from './metrics/meter-pipeline.ts';
export { ATTR, METRIC, METRIC_DEFINITIONS, type MetricDefinition } from './metrics/names.ts';
export { readStatus, type DecapStatus, type InterfaceXdp } from './status/read-status.ts';
export {
  reconcile,
  flowKey,
  INNER_L2_HEADER_BYTES,
  type DecapFlow,
  type NetflowRecord,
  type ReconcileReport,
  type VniComparison,
} from './reconcile/reconcile.ts';
export { readNfcapdStore, parseNfdumpJson, NetflowInputError } from './reconcile/nfdump.ts';
export { decodeFlows, decodeLostUpdates, decodeOutcomeStats, decodeVniStats, countActiveFlows, activeFlowCounts, formatAddress } from './decode/decoders.ts';
export {
  LAYOUT,
  LOST_COUNTERS,
  MAP_NAMES,
  OUTCOMES,
  SKIP_REASONS,
  TUNNEL_TYPES,
  type LostCounter,
  type Outcome,
  type SkipReason,
  type TunnelType,
} from './decode/layout.ts';
export type { ActiveFlowCount, CounterSnapshot, FlowRecord, LostUpdates, OutcomeCounters, VniCounters } from './decode/records.ts';
export { BpfError, NativeLibraryError } from './ffi/errors.ts';
