// Maps a validated config to what the kernel program takes: live settings and load-time capacities.
import type { DataplaneSettings, MapCapacities } from '../program/decap-program.ts';
import type { DecapConfig } from './schema.ts';
import { tunnelSettingsOf } from '../decode/tunnel-types.ts';

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
