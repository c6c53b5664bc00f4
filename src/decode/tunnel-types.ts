// The tunnel types xdp-decap decapsulates: one row each, the userspace side of TUNNEL_* in bpf/decap_shared.h.
//
// Adding a type here (and its TUNNEL_* code and parser in bpf/) is all userspace needs: the config schema, the
// settings maps, the decoders, the metrics' attribute values and the docs read this table.

/** How the kernel program recognises a tunnel: by UDP destination port, or by GRE protocol type. */
type TunnelCarrier =
  | { kind: 'udp' /** Config key of its port list. */; configKey: string; defaultPorts: readonly number[] }
  | { kind: 'gre' /** Config key of its on/off switch. */; configKey: string; protocols: readonly number[] };

export interface TunnelTypeInfo {
  /** The `decap.tunnel.type` attribute value, the replay JSON's "type", the config's wording. */
  name: string;
  /** `TUNNEL_*` in bpf/decap_shared.h. */
  id: number;
  /** Human name, for docs and messages. */
  title: string;
  carrier: TunnelCarrier;
  /** What its segment id (`decap.tunnel.id`, replay's "vni") is, and its width in bits. */
  segmentId: { what: string; bits: number };
  /** What the inner frame can be (an IP payload gets an Ethernet header written in front of it). */
  payload: string;
}

export const TUNNEL_TYPE_TABLE = [
  {
    name: 'vxlan',
    id: 1,
    title: 'VXLAN',
    carrier: { kind: 'udp', configKey: 'vxlanPorts', defaultPorts: [4789] },
    segmentId: { what: 'VNI', bits: 24 },
    payload: 'Ethernet',
  },
  {
    name: 'geneve',
    id: 2,
    title: 'Geneve',
    carrier: { kind: 'udp', configKey: 'genevePorts', defaultPorts: [6081] },
    segmentId: { what: 'VNI', bits: 24 },
    payload: 'Ethernet, IPv4 or IPv6',
  },
  {
    name: 'vxlan-gpe',
    id: 3,
    title: 'VXLAN-GPE',
    carrier: { kind: 'udp', configKey: 'vxlanGpePorts', defaultPorts: [4790] },
    segmentId: { what: 'VNI', bits: 24 },
    payload: 'Ethernet, IPv4 or IPv6 (not NSH)',
  },
  {
    name: 'gre',
    id: 4,
    title: 'GRE',
    carrier: { kind: 'gre', configKey: 'gre', protocols: [0x6558] },
    segmentId: { what: 'GRE key (0 without one)', bits: 32 },
    payload: 'Ethernet (transparent Ethernet bridging)',
  },
  {
    name: 'erspan',
    id: 5,
    title: 'ERSPAN',
    carrier: { kind: 'gre', configKey: 'erspan', protocols: [0x88be, 0x22eb] },
    segmentId: { what: 'session id (0 for type I)', bits: 10 },
    payload: 'the mirrored Ethernet frame (types I, II and III)',
  },
] as const satisfies readonly TunnelTypeInfo[];

export type TunnelType = (typeof TUNNEL_TYPE_TABLE)[number]['name'];
type Row = (typeof TUNNEL_TYPE_TABLE)[number];
/** Config keys of the UDP tunnels' port lists (vxlanPorts, ...). */
export type UdpPortsKey = Extract<Row, { carrier: { kind: 'udp' } }>['carrier']['configKey'];
/** Config keys of the GRE tunnels' switches (gre, erspan). */
export type GreSwitchKey = Extract<Row, { carrier: { kind: 'gre' } }>['carrier']['configKey'];

/** Which tunnels to decapsulate: each UDP tunnel's ports and each GRE tunnel's switch, keyed as in the config. */
export type TunnelSettings = { [K in UdpPortsKey]: readonly number[] } & { [K in GreSwitchKey]: boolean };

export const TUNNEL_TYPES: readonly TunnelType[] = TUNNEL_TYPE_TABLE.map((t) => t.name);
export const TUNNEL_TYPE_IDS = Object.fromEntries(TUNNEL_TYPE_TABLE.map((t) => [t.name, t.id])) as Record<TunnelType, number>;

const BY_ID = new Map<number, TunnelType>(TUNNEL_TYPE_TABLE.map((t) => [t.id, t.name]));

/** The name of a TUNNEL_* code; throws when userspace and the kernel disagree (a build mismatch, not input). */
export function tunnelTypeName(id: number): TunnelType {
  const name = BY_ID.get(id);
  if (name === undefined) throw new RangeError(`unknown tunnel type ${id}: bpf/decap_shared.h and src/decode/tunnel-types.ts disagree`);
  return name;
}

export const UDP_TUNNELS = TUNNEL_TYPE_TABLE.filter((t): t is Extract<Row, { carrier: { kind: 'udp' } }> => t.carrier.kind === 'udp');
const GRE_TUNNELS = TUNNEL_TYPE_TABLE.filter((t): t is Extract<Row, { carrier: { kind: 'gre' } }> => t.carrier.kind === 'gre');

/** The defaults: every UDP tunnel on its default ports, every GRE tunnel on. */
export const DEFAULT_TUNNELS: TunnelSettings = Object.fromEntries([
  ...UDP_TUNNELS.map((t) => [t.carrier.configKey, t.carrier.defaultPorts]),
  ...GRE_TUNNELS.map((t) => [t.carrier.configKey, true]),
]) as TunnelSettings;

/** UDP destination port -> tunnel type, from the settings (the tunnel_ports map's content). */
export function tunnelPortMap(s: TunnelSettings): Map<number, TunnelType> {
  return new Map(UDP_TUNNELS.flatMap((t) => s[t.carrier.configKey].map((p): [number, TunnelType] => [p, t.name])));
}

/** GRE protocol type -> tunnel type, from the settings (the gre_protocols map's content). */
export function greProtocolMap(s: TunnelSettings): Map<number, TunnelType> {
  return new Map(GRE_TUNNELS.filter((t) => s[t.carrier.configKey]).flatMap((t) => t.carrier.protocols.map((p): [number, TunnelType] => [p, t.name])));
}

/** Picks the tunnel settings out of a larger object (a config, dataplane settings). */
export function tunnelSettingsOf(s: TunnelSettings): TunnelSettings {
  return Object.fromEntries([
    ...UDP_TUNNELS.map((t) => [t.carrier.configKey, s[t.carrier.configKey]]),
    ...GRE_TUNNELS.map((t) => [t.carrier.configKey, s[t.carrier.configKey]]),
  ]) as TunnelSettings;
}
