// The dashboard's first row, decapsulated traffic: totals, per-VNI bytes and packets, the top VNIs, flows per VNI.
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import {
  BarGaugeDisplayMode,
  BarGaugeNamePlacement,
  BarGaugeSizing,
  BarGaugeValueMode,
  BigValueGraphMode,
  VizOrientation,
} from '@grafana/grafana-foundation-sdk/common';
import { type DashboardBuilder, FieldColorBuilder, FieldColorModeId, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type * as stat from '@grafana/grafana-foundation-sdk/stat';
import type * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { bigNumber, instantQuery, lastNotNull, PROMETHEUS, perVniLines, rangeQuery, thresholds } from './panels.ts';
import { PROM_METRIC as M } from './prometheus-names.ts';
import {
  INNER_ETHERNET_HEADER_BYTES,
  increase,
  NOT_OVERFLOW,
  namedVniRate,
  ON_INTERFACES,
  ON_VNIS,
  perVni,
  rate,
  select,
  VNI_LEGEND,
  VNI_SERIES,
} from './promql.ts';

/** Decapsulated bytes per second, all selected interfaces and VNIs. */
function throughputStat(): stat.PanelBuilder {
  return bigNumber(BigValueGraphMode.Area)
    .id(2)
    .title('Decapsulated throughput')
    .description(
      `Inner frame bytes per second after decapsulation (L2: includes the ${INNER_ETHERNET_HEADER_BYTES}-byte inner Ethernet header), all selected interfaces and VNIs, overflow series included. Source: ${M.tunnelBytes}.`,
    )
    .unit('Bps')
    .height(4)
    .span(6)
    .withTarget(rangeQuery(`sum(${rate(select(M.tunnelBytes, ON_INTERFACES, ON_VNIS))})`, 'bytes/s'));
}

/** Decapsulated packets per second, all selected interfaces and VNIs. */
function packetsStat(): stat.PanelBuilder {
  return bigNumber(BigValueGraphMode.Area)
    .id(3)
    .title('Decapsulated packets')
    .description(`Packets per second decapsulated on the selected interfaces and VNIs, overflow series included. Source: ${M.tunnelPackets}.`)
    .unit('pps')
    .height(4)
    .span(6)
    .withTarget(rangeQuery(`sum(${rate(select(M.tunnelPackets, ON_INTERFACES, ON_VNIS))})`, 'packets/s'));
}

/** Active inner flows, summed over the selected interfaces and VNIs. */
function activeFlowsStat(): stat.PanelBuilder {
  return bigNumber(BigValueGraphMode.Area)
    .id(4)
    .title('Active inner flows')
    .description(
      `Inner flows (interface, VNI, 5-tuple) seen within flowIdleTimeoutSeconds, summed over the selected interfaces and VNIs. Source: ${M.tunnelFlowsActive} (a gauge; 0 when trackFlows is false).`,
    )
    .unit('short')
    .height(4)
    .span(6)
    .withTarget(rangeQuery(`sum(${select(M.tunnelFlowsActive, ON_INTERFACES, ON_VNIS)})`, 'active flows'));
}

/** How many VNI series moved within the rate window. */
function vnisWithTrafficStat(): stat.PanelBuilder {
  return bigNumber(BigValueGraphMode.None)
    .id(5)
    .title('VNIs with traffic')
    .description(
      `Distinct (interface, tunnel type, VNI) series whose packet counter moved within the rate window. VNIs summed into an overflow series (beyond metrics.maxVniSeries) are not counted here. Source: ${M.tunnelPackets}.`,
    )
    .unit('short')
    .decimals(0)
    .height(4)
    .span(6)
    .withTarget(rangeQuery(`count(${namedVniRate(M.tunnelPackets)} > 0) or vector(0)`, 'VNIs'));
}

/** Inner frame bytes per second per VNI series. */
function bytesPerVni(): timeseries.PanelBuilder {
  return perVniLines()
    .id(6)
    .title('Bytes per VNI')
    .description(
      `Inner frame bytes per second after decapsulation (what the taps after XDP see: L2, includes the ${INNER_ETHERNET_HEADER_BYTES}-byte inner Ethernet header), per interface, tunnel type and VNI. VNIs beyond metrics.maxVniSeries are summed into one series per interface and tunnel type, shown as VNI "overflow". Source: ${M.tunnelBytes}.`,
    )
    .unit('Bps')
    .height(9)
    .span(12)
    .withTarget(rangeQuery(perVni(rate(select(M.tunnelBytes, ON_INTERFACES, ON_VNIS))), VNI_LEGEND));
}

/** Packets per second per VNI series. */
function packetsPerVni(): timeseries.PanelBuilder {
  return perVniLines()
    .id(7)
    .title('Packets per VNI')
    .description(
      `Packets decapsulated per second, per interface, tunnel type and VNI ("overflow": the VNIs beyond metrics.maxVniSeries, summed). Source: ${M.tunnelPackets}.`,
    )
    .unit('pps')
    .height(9)
    .span(12)
    .withTarget(rangeQuery(perVni(rate(select(M.tunnelPackets, ON_INTERFACES, ON_VNIS))), VNI_LEGEND));
}

/** The 10 VNI series with the most bytes over the time range. */
function topVnisByBytes(): bargauge.PanelBuilder {
  return new bargauge.PanelBuilder()
    .id(8)
    .title('Top 10 VNIs by bytes')
    .description(
      `The 10 (interface, tunnel type, VNI) series that carried the most inner frame bytes over the selected time range (increase over $__range, so a VNI that started or stopped inside the range counts only its part). The overflow series (VNIs beyond metrics.maxVniSeries) is left out. Source: ${M.tunnelBytes}.`,
    )
    .datasource(PROMETHEUS)
    .unit('decbytes')
    .min(0)
    .colorScheme(new FieldColorBuilder().mode(FieldColorModeId.ContinuousBlPu))
    .thresholds(thresholds({ color: 'blue', value: null }))
    .displayMode(BarGaugeDisplayMode.Gradient)
    .orientation(VizOrientation.Horizontal)
    .showUnfilled(true)
    .valueMode(BarGaugeValueMode.Color)
    .namePlacement(BarGaugeNamePlacement.Auto)
    .sizing(BarGaugeSizing.Auto)
    .minVizHeight(16)
    .minVizWidth(8)
    .maxVizHeight(300)
    .reduceOptions(lastNotNull())
    .height(9)
    .span(8)
    .withTarget(
      instantQuery(`sort_desc(topk(10, sum by (${VNI_SERIES}) (${increase(select(M.tunnelBytes, ON_INTERFACES, ON_VNIS, NOT_OVERFLOW))})))`, VNI_LEGEND),
    );
}

/** Active inner flows per VNI series. */
function activeFlowsPerVni(): timeseries.PanelBuilder {
  return perVniLines()
    .id(9)
    .title('Active flows per VNI')
    .description(
      `Inner flows (interface, VNI, 5-tuple) seen within flowIdleTimeoutSeconds, per interface, tunnel type and VNI ("overflow": the VNIs beyond metrics.maxVniSeries, summed). Like a NetFlow exporter's active flow count with an inactive timeout. Source: ${M.tunnelFlowsActive} (gauge).`,
    )
    .unit('short')
    .axisLabel('flows')
    .height(9)
    .span(8)
    .withTarget(rangeQuery(perVni(select(M.tunnelFlowsActive, ON_INTERFACES, ON_VNIS)), VNI_LEGEND));
}

/** New inner flows per second per VNI series. */
function newFlowsPerVni(): timeseries.PanelBuilder {
  return perVniLines()
    .id(10)
    .title('New flows per VNI')
    .description(
      `Inner flows per second seen for the first time, or again after the idle timeout (flowIdleTimeoutSeconds), per interface, tunnel type and VNI ("overflow": the VNIs beyond metrics.maxVniSeries, summed). Source: ${M.tunnelFlows}.`,
    )
    .unit('short')
    .axisLabel('new flows/s')
    .height(9)
    .span(8)
    .withTarget(rangeQuery(perVni(rate(select(M.tunnelFlows, ON_INTERFACES, ON_VNIS))), VNI_LEGEND));
}

/** Decapsulated traffic: four big numbers, then per-VNI lines and the top 10 VNIs. */
export function decapsulatedTrafficRow(dashboard: DashboardBuilder): DashboardBuilder {
  return dashboard
    .withRow(new RowBuilder('Decapsulated traffic').id(1))
    .withPanel(throughputStat())
    .withPanel(packetsStat())
    .withPanel(activeFlowsStat())
    .withPanel(vnisWithTrafficStat())
    .withPanel(bytesPerVni())
    .withPanel(packetsPerVni())
    .withPanel(topVnisByBytes())
    .withPanel(activeFlowsPerVni())
    .withPanel(newFlowsPerVni());
}
