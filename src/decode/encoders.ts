// Pure encoders from settings to the key/value bytes of the program's settings maps.
import { LAYOUT, TUNNEL_TYPE_IDS, type TunnelType } from './layout.ts';

export interface DataplaneFlags {
  dstFilterV4: boolean;
  dstFilterV6: boolean;
  trackFlows: boolean;
}

/** `struct decap_config`. */
export function encodeDecapConfig(flags: DataplaneFlags): Buffer {
  const L = LAYOUT.decap_config;
  const buf = Buffer.alloc(L.size);
  buf.writeUInt32LE(flags.dstFilterV4 ? 1 : 0, L.dst_filter_v4);
  buf.writeUInt32LE(flags.dstFilterV6 ? 1 : 0, L.dst_filter_v6);
  buf.writeUInt32LE(flags.trackFlows ? 1 : 0, L.track_flows);
  return buf;
}

/** `struct port_key`: the UDP port in host byte order. */
export function encodePortKey(port: number): Buffer {
  const buf = Buffer.alloc(LAYOUT.port_key.size);
  buf.writeUInt16LE(port, LAYOUT.port_key.port);
  return buf;
}

/** `struct port_value`. */
export function encodePortValue(type: TunnelType): Buffer {
  const buf = Buffer.alloc(LAYOUT.port_value.size);
  buf.writeUInt32LE(TUNNEL_TYPE_IDS[type], LAYOUT.port_value.tunnel_type);
  return buf;
}

/** The u32 index key of an array map. */
export function encodeIndex(index: number): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeUInt32LE(index);
  return buf;
}
