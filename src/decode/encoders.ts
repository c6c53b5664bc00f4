// Pure encoders from settings to the key/value bytes of the program's settings maps.
import { LAYOUT, TUNNEL_TYPE_IDS, type TunnelType } from './layout.ts';

export interface DataplaneFlags {
  dstFilterV4: boolean;
  dstFilterV6: boolean;
  trackFlows: boolean;
  excludeV4: boolean;
  excludeV6: boolean;
  /** flow_cache slots sync with the flows table at least this often; at most the idle timeout. */
  flowSyncMillis: number;
  /** gre_protocols has entries: IP protocol 47 is looked at. */
  gre: boolean;
}

/** `struct decap_config`. */
export function encodeDecapConfig(flags: DataplaneFlags): Buffer {
  const L = LAYOUT.decap_config;
  const buf = Buffer.alloc(L.size);
  buf.writeUInt32LE(flags.dstFilterV4 ? 1 : 0, L.dst_filter_v4);
  buf.writeUInt32LE(flags.dstFilterV6 ? 1 : 0, L.dst_filter_v6);
  buf.writeUInt32LE(flags.trackFlows ? 1 : 0, L.track_flows);
  buf.writeUInt32LE(flags.excludeV4 ? 1 : 0, L.exclude_v4);
  buf.writeUInt32LE(flags.excludeV6 ? 1 : 0, L.exclude_v6);
  buf.writeUInt32LE(flags.flowSyncMillis, L.flow_sync_ms);
  buf.writeUInt32LE(flags.gre ? 1 : 0, L.gre);
  return buf;
}

/** Value of the tunnel_ports and gre_protocols arrays: the tunnel type number, or 0 for "not a tunnel". */
export function encodePortValue(type: TunnelType | undefined): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeUInt32LE(type ? TUNNEL_TYPE_IDS[type] : 0);
  return buf;
}

/** The u32 index key of an array map. */
export function encodeIndex(index: number): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeUInt32LE(index);
  return buf;
}
