// Reads and validates the config file (YAML or JSON): one clear line per problem, naming the key and the fix.
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { PREFIX_TRIE_CAPACITY } from './prefixes.ts';
import { configObjectSchema, configSchema, interfaceSchema, mapsSchema, metricsSchema, type DecapConfig } from './schema.ts';

/** A config that cannot be used; `message` has one line per problem. */
export class ConfigError extends Error {
  readonly source: string;
  readonly problems: string[];

  constructor(source: string, problems: string[]) {
    super(problems.map((p) => `${source}: ${p}`).join('\n'));
    this.name = 'ConfigError';
    this.source = source;
    this.problems = problems;
  }
}

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

function suggest(key: string, known: string[]): string {
  const best = known.map((k) => ({ k, d: editDistance(key, k) })).sort((x, y) => x.d - y.d)[0];
  if (best && best.d <= Math.max(2, Math.floor(key.length / 3))) return `; did you mean '${best.k}'?`;
  return `; known keys here: ${known.join(', ')}`;
}

function pathText(path: ReadonlyArray<PropertyKey>): string {
  return path.length === 0 ? '(top level)' : path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

/** zod issues as `path: message` lines. */
function describeIssues(error: z.ZodError): string[] {
  return error.issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        const scope = issue.path.filter((p) => typeof p === 'string').join('.');
        const known = KNOWN_KEYS[scope] ?? [];
        return issue.keys.map((k) => `${pathText([...issue.path, k])}: unknown key${suggest(k, known)}`).join('\n');
      }
      return `${pathText(issue.path)}: ${issue.message}`;
    })
    .flatMap((l) => l.split('\n'));
}

/** Validates a parsed config object; `source` names it in errors (a file path, or "--interface"). */
export function parseConfig(input: unknown, source: string): DecapConfig {
  const result = configSchema.safeParse(input ?? {});
  if (!result.success) throw new ConfigError(source, describeIssues(result.error));
  return result.data;
}

/**
 * The largest config file read. Every list a config can hold is short (the prefix lists at most
 * 2 x PREFIX_TRIE_CAPACITY entries, ~100 KiB written out), and the YAML parser needs about a minute and
 * more than a gigabyte for a 20 MB file: refuse larger files before parsing them.
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * Alias expansions allowed while turning YAML into values: enough for any real config's anchors, far too
 * few for a "billion laughs" document of nested aliases.
 */
const MAX_YAML_ALIASES = 100;

/** Parses YAML or JSON text: by extension, else JSON first and YAML after. */
function parseText(text: string, path: string): unknown {
  const ext = extname(path).toLowerCase();
  if (ext === '.json' || (ext !== '.yaml' && ext !== '.yml' && text.trimStart().startsWith('{'))) {
    try {
      return JSON.parse(text);
    } catch (err) {
      // V8 quotes the text it choked on, line breaks and all: keep the problem on one line.
      const why = (err instanceof Error ? err.message : String(err)).replace(/\s*[\r\n]+\s*/g, ' ');
      throw new ConfigError(path, [`not valid JSON: ${why}`]);
    }
  }
  // logLevel 'error': the parser's warnings (e.g. a collection as a key) would print a second, unasked line; zod names the key.
  const doc = parseDocument(text, { prettyErrors: true, logLevel: 'error' });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      path,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return `YAML syntax error${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    // The yaml package throws a ReferenceError for too many alias expansions and for an alias with no anchor.
    if (err instanceof ReferenceError) {
      const why = /excessive alias count/i.test(err.message)
        ? `its aliases (*name) expand to too many values (more than ${MAX_YAML_ALIASES} expansions); write the values out, or use fewer nested anchors`
        : `${err.message.split('\n')[0]}; check the anchors (&name) and aliases (*name)`;
      throw new ConfigError(path, [`YAML ${why}`]);
    }
    throw err;
  }
}

/** Reads the file, refusing one larger than MAX_CONFIG_BYTES before reading it all. */
async function readConfigText(path: string): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, 'r');
    const stat = await handle.stat();
    if (stat.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    // Read one byte past the limit: a pipe or /proc file has no size to look at beforehand.
    const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let got = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, got, buf.length - got, null);
      if (bytesRead === 0) break;
      got += bytesRead;
      if (got > MAX_CONFIG_BYTES) {
        const size = stat.isFile() ? `${(stat.size / 1024 / 1024).toFixed(1)} MiB` : `more than ${MAX_CONFIG_BYTES} bytes`;
        throw new ConfigError(path, [
          `the config file is ${size}, larger than any config can be (at most ${MAX_CONFIG_BYTES / 1024 / 1024} MiB: ` +
            `decapPrefixes and excludePrefixes hold at most ${PREFIX_TRIE_CAPACITY} IPv4 and ${PREFIX_TRIE_CAPACITY} IPv6 prefixes each); ` +
            'check it is the right file, and merge long prefix lists into shorter prefixes',
        ]);
      }
    }
    return buf.toString('utf8', 0, got);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : err instanceof Error
              ? err.message
              : String(err);
    throw new ConfigError(path, [`cannot read the config file: ${why}`]);
  } finally {
    await handle?.close();
  }
}

export async function loadConfigFile(path: string): Promise<DecapConfig> {
  const text = await readConfigText(path);
  return parseConfig(parseText(text, path), path);
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
