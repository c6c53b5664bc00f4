// The dashboard's building blocks: its Prometheus queries and the panel kinds it uses, with the defaults they share.
import {
  BigValueColorMode,
  type BigValueGraphMode,
  BigValueJustifyMode,
  BigValueTextMode,
  GraphDrawStyle,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  SortOrder,
  StackingConfigBuilder,
  StackingMode,
  TooltipDisplayMode,
  VisibilityMode,
  VizLegendOptionsBuilder,
  VizOrientation,
  VizTooltipOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import {
  type DataSourceRef,
  FieldColorBuilder,
  FieldColorModeId,
  type Threshold,
  ThresholdsConfigBuilder,
  ThresholdsMode,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, QueryEditorMode } from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

/** Every panel and query reads the Prometheus picked in the $datasource variable. */
export const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

export function rangeQuery(expr: string, legendFormat: string, refId = 'A'): DataqueryBuilder {
  return new DataqueryBuilder().datasource(PROMETHEUS).editorMode(QueryEditorMode.Code).expr(expr).range().legendFormat(legendFormat).refId(refId);
}

export function instantQuery(expr: string, legendFormat: string): DataqueryBuilder {
  return new DataqueryBuilder().datasource(PROMETHEUS).editorMode(QueryEditorMode.Code).expr(expr).instant().legendFormat(legendFormat).refId('A');
}

export const thresholds = (...steps: Threshold[]): ThresholdsConfigBuilder => new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps);
export const lastNotNull = (): ReduceDataOptionsBuilder => new ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields('').values(false);

/** A big number: the last value, in text colour unless `thresholds` says otherwise. */
export function bigNumber(graphMode: BigValueGraphMode): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .datasource(PROMETHEUS)
    .colorScheme(new FieldColorBuilder().mode(FieldColorModeId.Thresholds))
    .thresholds(thresholds({ color: 'text', value: null }))
    .reduceOptions(lastNotNull())
    .colorMode(BigValueColorMode.Value)
    .graphMode(graphMode)
    .justifyMode(BigValueJustifyMode.Auto)
    .orientation(VizOrientation.Auto)
    .textMode(BigValueTextMode.Auto)
    .wideLayout(true)
    .showPercentChange(false);
}

/** Lines with a table legend (mean, max, last) and a shared, sorted tooltip. */
export function lines(legendPlacement: LegendPlacement, stacking = StackingMode.None): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .datasource(PROMETHEUS)
    .drawStyle(GraphDrawStyle.Line)
    .lineWidth(1)
    .fillOpacity(10)
    .showPoints(VisibilityMode.Never)
    .spanNulls(false)
    .stacking(new StackingConfigBuilder().mode(stacking).group('A'))
    .axisLabel('')
    .colorScheme(new FieldColorBuilder().mode(FieldColorModeId.PaletteClassic))
    .legend(
      new VizLegendOptionsBuilder().displayMode(LegendDisplayMode.Table).placement(legendPlacement).showLegend(true).calcs(['mean', 'max', 'lastNotNull']),
    )
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending));
}

/** One series per interface, tunnel type and VNI, the overflow series included. */
export const perVniLines = (): timeseries.PanelBuilder => lines(LegendPlacement.Bottom).min(0);
