// What the kernel program is handed: the live settings and the load-time map sizes, taken from a validated config.
import { DEFAULT_TUNNELS, type TunnelSettings, tunnelSettingsOf } from '../decode/tunnel-types.ts';
import type { Prefix } from './prefixes.ts';
import type { DecapConfig } from './schema.ts';

/** What the kernel program needs to know, and can change while attached. */
export interface DataplaneSettings extends TunnelSettings {
  /** Outer destinations to decapsulate; empty: any. */
  decapPrefixes: readonly Prefix[];
  /** Outer sources or destinations never touched. */
  excludePrefixes: readonly Prefix[];
  trackFlows: boolean;
  /** Flows unseen this long are expired by userspace; the kernel's per-CPU flow cache syncs at least this often. */
  flowIdleSeconds?: number;
}

/** Fixed at load time. */
export interface MapCapacities {
  vniCapacity: number;
  flowCapacity: number;
}

export const DEFAULT_DATAPLANE: DataplaneSettings = {
  ...DEFAULT_TUNNELS,
  decapPrefixes: [],
  excludePrefixes: [],
  trackFlows: true,
};

export const DEFAULT_CAPACITIES: MapCapacities = { vniCapacity: 65536, flowCapacity: 262144 };

export function dataplaneFromConfig(config: DecapConfig): DataplaneSettings {
  return {
    ...tunnelSettingsOf(config),
    decapPrefixes: config.decapPrefixes,
    excludePrefixes: config.excludePrefixes,
    trackFlows: config.trackFlows,
    flowIdleSeconds: config.flowIdleTimeoutSeconds,
  };
}

export function capacitiesFromConfig(config: DecapConfig): MapCapacities {
  return { vniCapacity: config.maps.vniCapacity, flowCapacity: config.maps.flowCapacity };
}
