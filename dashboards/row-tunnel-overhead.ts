// The dashboard's last row, collapsed: outer header bytes removed per VNI and their share of the wire bytes.
import { LegendPlacement } from '@grafana/grafana-foundation-sdk/common';
import { type DashboardBuilder, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { lines, perVniLines, rangeQuery } from './panels.ts';
import { PROM_METRIC as M } from './prometheus-names.ts';
import { namedVniRate, ON_INTERFACES, ON_VNIS, perVni, rate, select, VNI_LEGEND } from './promql.ts';

/** Outer header bytes removed per second per VNI series. */
function overheadPerVni(): timeseries.PanelBuilder {
  return perVniLines()
    .id(18)
    .title('Outer header bytes removed per VNI')
    .description(
      `Bytes per second of outer headers stripped (outer Ethernet, VLAN tags, IP, UDP, VXLAN/Geneve with options), per interface, tunnel type and VNI ("overflow": the VNIs beyond metrics.maxVniSeries, summed). Source: ${M.tunnelOverhead}.`,
    )
    .unit('Bps')
    .height(8)
    .span(12)
    .withTarget(rangeQuery(perVni(rate(select(M.tunnelOverhead, ON_INTERFACES, ON_VNIS))), VNI_LEGEND));
}

/** Outer header bytes as a share of the wire bytes per VNI series. */
function overheadShare(): timeseries.PanelBuilder {
  return lines(LegendPlacement.Bottom)
    .id(19)
    .title('Tunnel overhead share per VNI')
    .description(
      `Outer header bytes as a share of the bytes on the wire (overhead / (inner frame bytes + overhead)), per interface, tunnel type and VNI: what decapsulation saves every tap after XDP. Sources: ${M.tunnelOverhead}, ${M.tunnelBytes}.`,
    )
    .unit('percentunit')
    .min(0)
    .height(8)
    .span(12)
    .withTarget(rangeQuery(`${namedVniRate(M.tunnelOverhead)} / (${namedVniRate(M.tunnelBytes)} + ${namedVniRate(M.tunnelOverhead)})`, VNI_LEGEND));
}

/** Tunnel overhead (collapsed): bytes removed and their share. */
export function tunnelOverheadRow(dashboard: DashboardBuilder): DashboardBuilder {
  return dashboard.withRow(new RowBuilder('Tunnel overhead').id(20).collapsed(true).withPanel(overheadPerVni()).withPanel(overheadShare()));
}
