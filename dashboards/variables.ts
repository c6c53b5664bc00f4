// The dashboard's variables: the Prometheus data source, and the interfaces and VNIs its panels filter on.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import {
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  VariableHide,
  type VariableModel,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { PROMETHEUS } from './panels.ts';
import { PROM_LABEL as L, PROM_METRIC as M } from './prometheus-names.ts';
import { ON_INTERFACES, select } from './promql.ts';

/** Grafana's variable list shows `definition`; the SDK's VariableModel has no such field, so it is added here. */
class LabelValuesVariable implements cog.Builder<VariableModel> {
  readonly #variable: QueryVariableBuilder;
  readonly #query: string;

  /** A Prometheus `label_values(...)` variable: several values or All, refreshed with the time range. */
  constructor(name: string, query: string) {
    this.#query = query;
    this.#variable = new QueryVariableBuilder(name)
      .datasource(PROMETHEUS)
      .query({ qryType: 1, query, refId: 'PrometheusVariableQueryEditor-VariableQuery' })
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .regex('')
      .multi(true)
      .includeAll(true)
      .current({ selected: true, text: ['All'], value: ['$__all'] })
      .options([])
      .hide(VariableHide.DontHide);
  }

  /** The wrapped builder, for the settings that differ between variables. */
  with(configure: (v: QueryVariableBuilder) => QueryVariableBuilder): this {
    configure(this.#variable);
    return this;
  }

  build(): VariableModel {
    const model: VariableModel & { definition: string } = { ...this.#variable.build(), definition: this.#query };
    return model;
  }
}

/** $datasource: the Prometheus that scrapes the Collector. */
export function datasourceVariable(): DatasourceVariableBuilder {
  return new DatasourceVariableBuilder('datasource')
    .label('Data source')
    .description('The Prometheus that scrapes the collector (examples/prometheus/prometheus.yml).')
    .type('prometheus')
    .regex('')
    .hide(VariableHide.DontHide)
    .includeAll(false)
    .multi(false);
}

/** $interface: the capture interfaces that decapsulated traffic. */
export function interfaceVariable(): LabelValuesVariable {
  return new LabelValuesVariable('interface', `label_values(${M.tunnelPackets}, ${L.interfaceName})`).with((v) =>
    v.label('Interface').description(`Capture interfaces (${L.interfaceName}) that decapsulated traffic.`).sort(VariableSort.AlphabeticalAsc).allValue('.+'),
  );
}

/** $vni: the VNIs seen on the selected interfaces, overflow included under "All". */
export function vniVariable(): LabelValuesVariable {
  return new LabelValuesVariable('vni', `label_values(${select(M.tunnelPackets, ON_INTERFACES)}, ${L.tunnelVni})`).with((v) =>
    v
      .label('VNI')
      .description(
        `VXLAN/Geneve VNIs seen on the selected interfaces. "All" also matches the overflow series (no ${L.tunnelVni} label), shown as VNI "overflow".`,
      )
      .sort(VariableSort.NumericalAsc)
      .allValue('.*'),
  );
}
