// Validates a config (the zod schema of schema.ts) into the settings every part of xdp-decap runs with: one rule each.
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from './config-error.ts';
import { parseConfigText, readConfigText } from './read-file.ts';
import { configObjectSchema, configSchema, type DecapConfig, interfaceSchema, mapsSchema, metricsSchema } from './schema.ts';

export { ConfigError, type ConfigIssue } from './config-error.ts';
export { MAX_CONFIG_BYTES } from './read-file.ts';

/** Known keys of each object in the config, for "did you mean" hints. */
const KNOWN_KEYS: Record<string, string[]> = {
  '': Object.keys(configObjectSchema.shape),
  interfaces: Object.keys(interfaceSchema.shape),
  maps: Object.keys(mapsSchema.unwrap().shape),
  metrics: Object.keys(metricsSchema.unwrap().shape),
};

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

/** The known key an unknown one most likely means, or the list of known keys when none is close. */
function hintFor(key: string, known: string[]): Pick<ConfigIssue, 'didYouMean' | 'knownKeys'> {
  const best = known.map((k) => ({ k, d: editDistance(key, k) })).sort((x, y) => x.d - y.d)[0];
  if (best && best.d <= Math.max(2, Math.floor(key.length / 3))) return { didYouMean: best.k };
  return { knownKeys: known };
}

/** zod issues as ConfigIssues: one per problem (a value that breaks two checks of one message is said once), an unknown key with its hint. */
function describeIssues(error: z.ZodError): ConfigIssue[] {
  const seen = new Set<string>();
  return error.issues.flatMap((issue): ConfigIssue[] => {
    const once = JSON.stringify([issue.path, issue.message]);
    if (seen.has(once)) return [];
    seen.add(once);
    const path = issue.path.filter((p): p is string | number => typeof p === 'string' || typeof p === 'number');
    if (issue.code === 'unrecognized_keys') {
      const known = KNOWN_KEYS[path.filter((p) => typeof p === 'string').join('.')] ?? [];
      return issue.keys.map((k) => ({ path: [...path, k], message: 'unknown key', ...hintFor(k, known) }));
    }
    return [{ path, message: issue.message }];
  });
}

/** Validates a parsed config object; `source` names it in errors (a file path, or "--interface"). */
export function parseConfig(input: unknown, source: string): DecapConfig {
  const result = configSchema.safeParse(input ?? {});
  if (!result.success) throw new ConfigError(source, describeIssues(result.error));
  return result.data;
}

/**
 * What `run` needs beyond a valid config, checked at start, on every reload and by `validate` alike: something
 * to attach to.
 */
export function runIssues(config: DecapConfig): ConfigIssue[] {
  if (config.interfaces.length > 0) return [];
  return [{ path: ['interfaces'], message: 'nothing to attach: list the capture interfaces, e.g. interfaces: [{ name: ens1f0 }]' }];
}

/** A config `run` can run: valid and with something to attach (runIssues), else a ConfigError. */
export function checkRunnable(config: DecapConfig, source: string): DecapConfig {
  const issues = runIssues(config);
  if (issues.length > 0) throw new ConfigError(source, issues);
  return config;
}

/** Reads and validates a config file; `-` reads stdin. */
export async function loadConfigFile(path: string): Promise<DecapConfig> {
  return parseConfig(await loadConfigInput(path), configSource(path));
}

/** How a config path is named in messages: the path, or stdin for `-`. */
export function configSource(path: string): string {
  return path === '-' ? 'stdin' : path;
}

/** A config file's values before validation (YAML or JSON); `-` reads stdin. */
export async function loadConfigInput(path: string): Promise<unknown> {
  const source = configSource(path);
  return parseConfigText(await readConfigText(path, source), source);
}

/** The config with every default: what an empty file means. */
export const DEFAULT_CONFIG: DecapConfig = parseConfig({}, 'defaults');

/** JSON Schema of the config file (draft 2020-12), generated from the zod schema. */
export function configJsonSchema(): object {
  return {
    ...z.toJSONSchema(configObjectSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://xdp-decap.dev/schema/config.schema.json',
    title: 'xdp-decap config',
  };
}

/** JSON with object keys sorted at every depth: equal values give equal text whatever order their keys were written in. */
function stable(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** The settings that changed between two configs and need a restart to apply (empty: the change can apply live). */
export function settingsNeedingRestart(before: DecapConfig, after: DecapConfig): string[] {
  const changed: string[] = [];
  if (before.maps.vniCapacity !== after.maps.vniCapacity) changed.push('maps.vniCapacity');
  if (before.maps.flowCapacity !== after.maps.flowCapacity) changed.push('maps.flowCapacity');
  // The OTLP pipeline is built once; changing where or how it exports needs a restart.
  const keys = new Set([...Object.keys(before.metrics), ...Object.keys(after.metrics)]) as Set<keyof DecapConfig['metrics']>;
  for (const key of keys) {
    if (stable(before.metrics[key]) !== stable(after.metrics[key])) changed.push(`metrics.${key}`);
  }
  return changed;
}
