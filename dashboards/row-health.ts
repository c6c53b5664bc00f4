// The dashboard's health row: packets passed untouched by reason, and map updates lost.
import { BigValueColorMode, BigValueGraphMode, LegendPlacement, StackingMode } from '@grafana/grafana-foundation-sdk/common';
import { type DashboardBuilder, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type * as stat from '@grafana/grafana-foundation-sdk/stat';
import type * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { bigNumber, instantQuery, lines, rangeQuery, thresholds } from './panels.ts';
import { PROM_LABEL as L, PROM_METRIC as M } from './prometheus-names.ts';
import { increase, ON_INTERFACES, rate, select } from './promql.ts';

/** Packets passed untouched per interface and reason. */
function passedUntouched(): timeseries.PanelBuilder {
  return lines(LegendPlacement.Right, StackingMode.Normal)
    .id(12)
    .title('Packets passed untouched, by reason')
    .description(
      `Packets per second xdp-decap did not decapsulate and passed byte for byte (it never drops), per interface and reason: not_tunnel (ordinary traffic, expected), fragment, truncated, malformed, filtered (outside decapPrefixes), excluded (excludePrefixes), unsupported (Geneve OAM, non-Ethernet payload, IPv6 extension headers), adjust_failed. Anything but not_tunnel deserves a look. Not filtered by VNI. Source: ${M.skippedPackets}.`,
    )
    .unit('pps')
    .min(0)
    .height(8)
    .span(16)
    .withTarget(
      rangeQuery(`sum by (${L.interfaceName}, ${L.reason}) (${rate(select(M.skippedPackets, ON_INTERFACES))})`, `{{${L.interfaceName}}} {{${L.reason}}}`),
    );
}

/** Map updates lost over the time range, red above 0. */
function mapUpdatesLost(): stat.PanelBuilder {
  return bigNumber(BigValueGraphMode.None)
    .id(13)
    .title('Map updates lost')
    .description(
      `Kernel map updates that failed because a map was full, over the selected time range: vni_stats (a new interface, type and VNI was not counted: raise maps.vniCapacity), outcome_stats (a new interface with ifindex >= 512), flows (an insert the LRU refused). Should stay 0; red otherwise. Not filtered by interface or VNI (the counter has neither). Source: ${M.mapUpdatesLost}.`,
    )
    .unit('short')
    .decimals(0)
    .thresholds(thresholds({ color: 'green', value: null }, { color: 'red', value: 1 }))
    .colorMode(BigValueColorMode.Background)
    .height(8)
    .span(8)
    .withTarget(instantQuery(`sum by (${L.map}) (${increase(M.mapUpdatesLost)})`, `{{${L.map}}}`));
}

/** Health: what xdp-decap passed untouched, and what the kernel could not count. */
export function healthRow(dashboard: DashboardBuilder): DashboardBuilder {
  return dashboard.withRow(new RowBuilder('Health').id(11)).withPanel(passedUntouched()).withPanel(mapUpdatesLost());
}
