// The PromQL of examples/grafana/xdp-decap.json, with Grafana's variables substituted, ready to run against Prometheus' HTTP API.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './env.ts';

export const DASHBOARD_PATH = join(REPO_ROOT, 'examples', 'grafana', 'xdp-decap.json');

export interface GrafanaDatasourceRef {
  type?: string;
  uid?: string;
}

export interface GrafanaTarget {
  refId?: string;
  expr?: string;
  instant?: boolean;
  range?: boolean;
  legendFormat?: string;
  datasource?: GrafanaDatasourceRef | string | null;
}

export interface GrafanaPanel {
  type: string;
  id?: number;
  title?: string;
  description?: string;
  datasource?: GrafanaDatasourceRef | string | null;
  targets?: GrafanaTarget[];
  /** A row's panels when the row is collapsed. */
  panels?: GrafanaPanel[];
  collapsed?: boolean;
  gridPos?: { h: number; w: number; x: number; y: number };
}

export interface GrafanaVariable {
  type: string;
  name: string;
  label?: string;
  query?: string | { query?: string };
  definition?: string;
  datasource?: GrafanaDatasourceRef | string | null;
  allValue?: string | null;
  includeAll?: boolean;
  multi?: boolean;
  current?: { value?: string | string[] };
}

export interface GrafanaDashboard {
  title: string;
  uid?: string;
  schemaVersion: number;
  panels: GrafanaPanel[];
  templating?: { list: GrafanaVariable[] };
}

/** One query the dashboard sends to Prometheus. */
export interface DashboardQuery {
  source: 'panel' | 'variable';
  /** Human-readable origin for messages: `panel "Bytes per VNI" (id 6) target A`, `variable $vni`. */
  where: string;
  panelTitle?: string;
  refId?: string;
  variable?: string;
  /** An instant query in Grafana (a bar gauge's topk, a stat over $__range); variable queries are instant too. */
  instant: boolean;
  /** As written in the dashboard (for a variable: the label_values(...) call). */
  raw: string;
  /** Plain PromQL with every variable substituted. */
  expr: string;
}

export interface SubstitutionOptions {
  /**
   * Values of the dashboard's template variables, by name (no `$`). A string is one selected value, an array
   * several, '$__all' the "All" option. A variable not given is "All": its allValue, else '.+'.
   */
  variables?: Readonly<Record<string, string | readonly string[]>>;
  /** $__rate_interval (default '1m': Grafana's 4 x the 15 s scrape interval of examples/prometheus/prometheus.yml). */
  rateInterval?: string;
  /** $__interval (default '15s'). */
  interval?: string;
  /** $__range (default '1h', the dashboard's default time range). */
  range?: string;
}

const BUILTINS = ['__rate_interval', '__interval', '__interval_ms', '__range', '__range_s', '__range_ms'] as const;

/** Reads and minimally checks a Grafana dashboard JSON file. */
export function loadDashboard(path: string = DASHBOARD_PATH): GrafanaDashboard {
  const text = readFileSync(path, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid JSON: ${(err as Error).message}`);
  }
  const d = parsed as Partial<GrafanaDashboard> | null;
  if (!d || typeof d !== 'object' || !Array.isArray(d.panels) || typeof d.title !== 'string') {
    throw new Error(`${path}: not a Grafana dashboard (needs a "title" and a "panels" array)`);
  }
  return d as GrafanaDashboard;
}

/** Every panel that shows data, rows flattened (a collapsed row keeps its panels inside it); rows themselves are left out. */
export function dashboardPanels(dashboard: GrafanaDashboard): GrafanaPanel[] {
  const out: GrafanaPanel[] = [];
  const walk = (panels: readonly GrafanaPanel[]): void => {
    for (const p of panels) {
      if (p.type === 'row') walk(p.panels ?? []);
      else out.push(p);
    }
  };
  walk(dashboard.panels);
  return out;
}

/** The dashboard's template variables. */
export function dashboardVariables(dashboard: GrafanaDashboard): GrafanaVariable[] {
  return dashboard.templating?.list ?? [];
}

/** The query text of a template variable (the object form of newer Grafana versions, or the old string form). */
export function variableQueryText(v: GrafanaVariable): string {
  if (typeof v.query === 'string') return v.query;
  return v.query?.query ?? v.definition ?? '';
}

/**
 * A Prometheus variable query turned into PromQL that returns one series per value:
 * `label_values(metric{m}, label)` → `count by (label) (metric{m, label!=""})`, `label_values(label)` → `count by (label) ({label!=""})`.
 */
export function labelValuesToPromQL(query: string): string {
  const withSelector = /^\s*label_values\s*\(\s*(.+)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$/s.exec(query);
  if (withSelector) {
    // Only series that have the label, as label_values lists no empty value.
    const [selector, label] = [withSelector[1]!.trim(), withSelector[2]!];
    const braces = /^(.*)\{(.*)\}$/s.exec(selector);
    const withLabel = braces ? `${braces[1]}{${braces[2]!.trim() ? `${braces[2]!.trim()}, ` : ''}${label}!=""}` : `${selector}{${label}!=""}`;
    return `count by (${label}) (${withLabel})`;
  }
  const labelOnly = /^\s*label_values\s*\(\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$/.exec(query);
  if (labelOnly) return `count by (${labelOnly[1]}) ({${labelOnly[1]}!=""})`;
  throw new Error(`unsupported variable query (only label_values(...) is translated to PromQL): ${query}`);
}

/** Milliseconds in a Prometheus/Grafana duration such as '90s', '1m', '1h30m'. */
export function durationMs(duration: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000, w: 604800000, y: 31536000000 };
  const parts = [...duration.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== duration) throw new Error(`not a duration: "${duration}" (e.g. 15s, 1m, 1h30m)`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]!]!, 0);
}

/** A value made safe inside a PromQL double-quoted regex matcher, as Grafana does for multi-value variables. */
function escapeRegexValue(value: string): string {
  // Regex escape (\.) written inside a PromQL string, where a backslash is itself written \\.
  return value.replace(/[\\.*+?^${}()|[\]"]/g, (c) => (c === '"' ? '\\"' : c === '\\' ? '\\\\\\\\' : `\\\\${c}`));
}

/**
 * Substitutes Grafana's variables in `expr`: $name, ${name}, ${name:format} (raw, regex, pipe) and [[name]].
 * Throws naming the variable and `where` for a variable the dashboard does not define.
 */
export function substituteVariables(expr: string, dashboard: GrafanaDashboard, options: SubstitutionOptions = {}, where = 'query'): string {
  const variables = new Map(dashboardVariables(dashboard).map((v) => [v.name, v]));
  const rateInterval = options.rateInterval ?? '1m';
  const interval = options.interval ?? '15s';
  const range = options.range ?? '1h';
  const builtin: Record<(typeof BUILTINS)[number], string> = {
    __rate_interval: rateInterval,
    __interval: interval,
    __interval_ms: String(durationMs(interval)),
    __range: range,
    __range_s: String(Math.floor(durationMs(range) / 1000)),
    __range_ms: String(durationMs(range)),
  };
  for (const name of Object.keys(options.variables ?? {})) {
    if (!variables.has(name))
      throw new Error(`a value was given for $${name}, which the dashboard does not define (it has: ${[...variables.keys()].map((n) => `$${n}`).join(', ')})`);
  }
  const variableValue = (name: string, format: string | undefined): string => {
    if (name in builtin) return builtin[name as keyof typeof builtin];
    const v = variables.get(name);
    if (!v) {
      const known = [...[...variables.keys()].map((n) => `$${n}`), ...BUILTINS.map((n) => `$${n}`)].join(', ');
      throw new Error(`${where}: unknown Grafana variable $${name} in: ${expr}\n  (known: ${known})`);
    }
    if (format !== undefined && !['raw', 'regex', 'pipe'].includes(format))
      throw new Error(`${where}: unsupported format ":${format}" for $${name} in: ${expr}`);
    if (v.type === 'datasource') return '';
    if (v.type === 'constant' || v.type === 'textbox') {
      const given = options.variables?.[name];
      return String(typeof given === 'string' ? given : (given?.[0] ?? variableQueryText(v)));
    }
    const given = options.variables?.[name];
    const values = given === undefined ? ['$__all'] : typeof given === 'string' ? [given] : [...given];
    if (values.length === 0) throw new Error(`${where}: an empty selection for $${name}`);
    if (values.includes('$__all')) return v.allValue ?? '.+';
    if (format === 'raw') return values.join(',');
    const escaped = values.map(escapeRegexValue);
    if (format === 'pipe') return escaped.join('|');
    return escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
  };
  return expr.replace(
    /\$\{([a-zA-Z0-9_]+)(?::([a-zA-Z0-9_]+))?\}|\[\[([a-zA-Z0-9_]+)(?::([a-zA-Z0-9_]+))?\]\]|\$([a-zA-Z0-9_]+)/g,
    (_m, a?: string, af?: string, b?: string, bf?: string, c?: string) => variableValue((a ?? b ?? c)!, af ?? bf),
  );
}

/** Every PromQL query of the dashboard (panel targets, rows included, then variable queries), variables substituted. */
export function extractQueries(dashboard: GrafanaDashboard, options: SubstitutionOptions = {}): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const panel of dashboardPanels(dashboard)) {
    for (const t of panel.targets ?? []) {
      if (t.expr === undefined) continue;
      const where = `panel "${panel.title ?? '(untitled)'}" (id ${panel.id ?? '?'}) target ${t.refId ?? '?'}`;
      out.push({
        source: 'panel',
        where,
        ...(panel.title !== undefined ? { panelTitle: panel.title } : {}),
        ...(t.refId !== undefined ? { refId: t.refId } : {}),
        instant: t.instant === true && t.range !== true,
        raw: t.expr,
        expr: substituteVariables(t.expr, dashboard, options, where),
      });
    }
  }
  for (const v of dashboardVariables(dashboard)) {
    if (v.type !== 'query') continue;
    const raw = variableQueryText(v);
    const where = `variable $${v.name}`;
    out.push({
      source: 'variable',
      where,
      variable: v.name,
      instant: true,
      raw,
      expr: substituteVariables(labelValuesToPromQL(raw), dashboard, options, where),
    });
  }
  return out;
}

const PROMQL_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'inf', 'nan']);

/**
 * Metric names a PromQL expression reads (bare names and __name__="..." matchers), sorted and unique.
 * A lexical scan, enough for the dashboard's queries: strings, label matchers, ranges and grouping lists are
 * removed; identifiers left that are not function calls or keywords are metric names.
 */
export function metricNamesIn(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/__name__\s*(=~|!=|!~|=)\s*"([^"]*)"/g)) {
    if (m[1] !== '=') throw new Error(`metricNamesIn: only __name__="..." is supported, not ${m[0]} in: ${expr}`);
    names.add(m[2]!);
  }
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  for (const m of stripped.matchAll(/(?<![0-9.a-zA-Z_:])[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = stripped.slice(m.index + m[0].length);
    if (/^\s*\(/.test(after) || PROMQL_KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names].sort();
}
