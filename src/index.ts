// Public API of the xdp-decap package: the plugin entry, config, the program, replay, metrics and decoders.

export { ConfigError, configJsonSchema, DEFAULT_CONFIG, loadConfigFile, parseConfig, settingsNeedingRestart } from './config/load.ts';
export { lpmKey, type Prefix, parsePrefix } from './config/prefixes.ts';
export { configSchema, type DecapConfig, type DecapConfigInput } from './config/schema.ts';
export { activeFlowCounts, countActiveFlows } from './decode/active-flows.ts';
export { decodeLostUpdates, decodeOutcomeStats, decodeVniStats } from './decode/counter-decoders.ts';
export type { CounterSnapshot } from './decode/counter-snapshot.ts';
export { decodeFlows, formatAddress } from './decode/flow-decoders.ts';
export {
  LAYOUT,
  LOST_COUNTERS,
  type LostCounter,
  MAP_NAMES,
  OUTCOMES,
  type Outcome,
  SKIP_REASONS,
  type SkipReason,
  TUNNEL_TYPES,
  type TunnelType,
} from './decode/layout.ts';
export type { ActiveFlowCount, FlowRecord, LostUpdates, OutcomeCounters, VniCounters } from './decode/records.ts';
export { BpfError, NativeLibraryError } from './ffi/errors.ts';
export { type DecapMetrics, type DecapMetricsOptions, type MetricsInput, registerDecapMetrics } from './metrics/decap-metrics.ts';
export { createMeterPipeline, type MeterPipeline } from './metrics/meter-pipeline.ts';
export { ATTR, METRIC, METRIC_DEFINITIONS, type MetricDefinition } from './metrics/names.ts';
export { type ResolvedMetricsSettings, resolveMetricsSettings } from './metrics/otel-settings.ts';
export { type AttachMode, InterfaceAttacher, InterfaceHeldError, type InterfaceRequest, type InterfaceStatus } from './plugin/interface-attacher.ts';
export { createStderrLogger, type Logger, type LogLevel } from './plugin/logger.ts';
export { createPlugin, type DecapPlugin, type PluginOptions, type ReloadResult } from './plugin/plugin.ts';
export { bpfObjectPath, type DataplaneSettings, DEFAULT_CAPACITIES, DEFAULT_DATAPLANE, DecapProgram, type MapCapacities } from './program/decap-program.ts';
export { NetflowInputError, parseNfdumpJson, readNfcapdStore } from './reconcile/nfdump.ts';
export {
  type DecapFlow,
  flowKey,
  INNER_L2_HEADER_BYTES,
  type NetflowRecord,
  type ReconcileReport,
  reconcile,
  type VniComparison,
} from './reconcile/reconcile.ts';
export { CaptureError, PcapReader, type PcapRecord, PcapWriter, type TimestampPrecision } from './replay/pcap.ts';
export { REPLAY_REFUSED, type ReplayOptions, type ReplaySummary, type ReplayVni, replayCapture } from './replay/replay.ts';
export { type DecapStatus, type InterfaceXdp, readStatus } from './status/read-status.ts';
