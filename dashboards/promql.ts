// The PromQL of the dashboard's panels, every metric and label name from plugin.json (through src/metrics/names.ts
// and prometheus-names.ts).
import { PROM_LABEL as L, PROM_METRIC as M } from './prometheus-names.ts';

/** The NetFlow/IPFIX sums the Collector's netflow receiver exports: not xdp-decap's, so not in plugin.json. */
export const NETFLOW = { bytes: 'netflow_bytes_total', packets: 'netflow_packets_total', transportLabel: 'network_transport' } as const;

/** Inner Ethernet header bytes: xdp-decap counts inner frames (L2), NetFlow counts IP bytes (L3). */
export const INNER_ETHERNET_HEADER_BYTES = 14;

export const ON_INTERFACES = `${L.interfaceName}=~"$interface"`;
export const ON_VNIS = `${L.tunnelVni}=~"$vni"`;
export const NOT_OVERFLOW = `${L.overflow}!="true"`;
/** The labels that identify one per-VNI series (plugin.json's cardinality.seriesKey). */
export const VNI_SERIES = `${L.interfaceName}, ${L.tunnelType}, ${L.tunnelVni}`;
export const VNI_LEGEND = `{{${L.interfaceName}}} {{${L.tunnelType}}} VNI {{${L.tunnelVni}}}`;

export const select = (metric: string, ...matchers: string[]): string => (matchers.length > 0 ? `${metric}{${matchers.join(', ')}}` : metric);
export const rate = (selector: string): string => `rate(${selector}[$__rate_interval])`;
export const increase = (selector: string): string => `increase(${selector}[$__range])`;
/** Per-VNI series; the overflow series (no VNI label) is shown as VNI "overflow". */
export const perVni = (expr: string): string =>
  `label_replace(sum by (${VNI_SERIES}, ${L.overflow}) (${expr}), "${L.tunnelVni}", "overflow", "${L.overflow}", "true")`;
/** Per-VNI rates of the VNIs that have their own series (the overflow series left out). */
export const namedVniRate = (metric: string): string => `sum by (${VNI_SERIES}) (${rate(select(metric, ON_INTERFACES, ON_VNIS, NOT_OVERFLOW))})`;
/** Decapsulated L3 bytes of the selected interfaces (all VNIs: NetFlow has none), over a window function. */
export const decapL3Bytes = (over: (selector: string) => string): string =>
  `sum(${over(select(M.tunnelBytes, ON_INTERFACES))}) - ${INNER_ETHERNET_HEADER_BYTES} * sum(${over(select(M.tunnelPackets, ON_INTERFACES))})`;
