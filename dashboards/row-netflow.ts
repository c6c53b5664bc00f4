// The dashboard's NetFlow reconciliation row: the tap's NetFlow/IPFIX totals beside what xdp-decap decapsulated.
import { BigValueGraphMode, LegendPlacement } from '@grafana/grafana-foundation-sdk/common';
import { type DashboardBuilder, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type * as stat from '@grafana/grafana-foundation-sdk/stat';
import type * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { bigNumber, instantQuery, lines, rangeQuery } from './panels.ts';
import { PROM_METRIC as M } from './prometheus-names.ts';
import { decapL3Bytes, INNER_ETHERNET_HEADER_BYTES, increase, NETFLOW, ON_INTERFACES, rate, select } from './promql.ts';

/** NetFlow bytes against decap L3 bytes, and their difference. */
function netflowVsDecapBytes(): timeseries.PanelBuilder {
  return lines(LegendPlacement.Right)
    .id(15)
    .title('NetFlow vs decap: L3 bytes')
    .description(
      `Compares like with like. xdp-decap counts inner FRAME bytes (L2, with the ${INNER_ETHERNET_HEADER_BYTES}-byte inner Ethernet header); NetFlow/IPFIX exporters report IP (L3) bytes. So decap L3 bytes/s = rate(${M.tunnelBytes}) - ${INNER_ETHERNET_HEADER_BYTES} x rate(${M.tunnelPackets}), all VNIs of the selected interfaces ($vni does not apply: NetFlow has no VNI). NetFlow bytes/s = rate(${NETFLOW.bytes}) of the selected exporters. Difference = NetFlow - decap L3: expected >= 0, because the tap after XDP also exports flows for the traffic passed untouched (not_tunnel); a negative difference means the flow exporter missed packets. NetFlow counts arrive when the exporter expires a flow (its active/inactive timeouts), so short windows swing: compare over ranges longer than those timeouts.`,
    )
    .unit('Bps')
    .overrideByName('difference (NetFlow - decap L3)', [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }])
    .height(9)
    .span(16)
    .withTarget(rangeQuery(decapL3Bytes(rate), 'decap L3 bytes/s', 'A'))
    .withTarget(rangeQuery(`sum(${rate(NETFLOW.bytes)})`, 'NetFlow bytes/s', 'B'))
    .withTarget(rangeQuery(`sum(${rate(NETFLOW.bytes)}) - (${decapL3Bytes(rate)})`, 'difference (NetFlow - decap L3)', 'C'));
}

/** NetFlow bytes over decap L3 bytes across the time range. */
function netflowToDecapRatio(): stat.PanelBuilder {
  return bigNumber(BigValueGraphMode.None)
    .id(16)
    .title('NetFlow / decap L3 bytes')
    .description(
      `Ratio of the bytes NetFlow reported to the L3 bytes xdp-decap decapsulated (${M.tunnelBytes} - ${INNER_ETHERNET_HEADER_BYTES} x ${M.tunnelPackets}: frame bytes minus the inner Ethernet header), over the whole selected time range, which smooths out the flow exporter's expiry timeouts. 100% when the tap exports exactly the decapsulated traffic; above 100% by the untouched (not_tunnel) traffic the tap also sees; below 100% when the flow exporter missed packets or has not yet expired its flows. All VNIs of the selected interfaces; NetFlow of the selected exporters.`,
    )
    .unit('percentunit')
    .decimals(1)
    .height(9)
    .span(8)
    .withTarget(instantQuery(`sum(${increase(NETFLOW.bytes)}) / (${decapL3Bytes(increase)})`, 'NetFlow / decap L3'));
}

/** NetFlow packets against decap packets. */
function netflowVsDecapPackets(): timeseries.PanelBuilder {
  return lines(LegendPlacement.Right)
    .id(17)
    .title('NetFlow vs decap: packets')
    .description(
      `Packets per second: decapsulated by xdp-decap (all VNIs of the selected interfaces) against the packets NetFlow reported (${NETFLOW.packets}, selected exporters). Packets need no L2/L3 correction. NetFlow also counts the IP traffic passed untouched (not_tunnel), and its counts arrive when flows expire.`,
    )
    .unit('pps')
    .min(0)
    .height(8)
    .span(24)
    .withTarget(rangeQuery(`sum(${rate(select(M.tunnelPackets, ON_INTERFACES))})`, 'decap packets/s', 'A'))
    .withTarget(rangeQuery(`sum(${rate(NETFLOW.packets)})`, 'NetFlow packets/s', 'B'))
    .withTarget(rangeQuery(`sum by (${NETFLOW.transportLabel}) (${rate(NETFLOW.packets)})`, `NetFlow {{${NETFLOW.transportLabel}}} packets/s`, 'C'));
}

/** NetFlow reconciliation: L3 bytes and packets, NetFlow against decap. */
export function netflowRow(dashboard: DashboardBuilder): DashboardBuilder {
  return dashboard
    .withRow(new RowBuilder('NetFlow reconciliation').id(14))
    .withPanel(netflowVsDecapBytes())
    .withPanel(netflowToDecapRatio())
    .withPanel(netflowVsDecapPackets());
}
