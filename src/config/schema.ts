// The config file's schema (zod): every setting, its default, its limits and its help text.
import { z } from 'zod';
import { type GreSwitchKey, TUNNEL_TYPE_TABLE, UDP_TUNNELS, type UdpPortsKey } from '../decode/tunnel-types.ts';
import { LOG_LEVELS } from './log-levels.ts';
import { PREFIX_TRIE_CAPACITY, type Prefix, parsePrefix } from './prefixes.ts';

/** The longest a Node.js timer waits (2^31 - 1 ms): every interval and timeout in the config stays within it. */
export const TIMER_MAX_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** A numeric setting's bounds: what the code can hold, and the one message that says so. */
export interface NumericLimit {
  min: number;
  max: number;
  integer: boolean;
  unit?: string;
  /** Why the maximum is what it is, when it is not obvious. */
  maxReason?: string;
}

/**
 * Every numeric setting and its bounds, written once: the zod schema below, the JSON Schema generated from it
 * (and so the Collector receiver, which asks this validator) and the limit tests all take them from here.
 */
export const NUMERIC_LIMITS = {
  port: { min: 1, max: 65535, integer: true },
  'maps.vniCapacity': { min: 1, max: 1048576, integer: true },
  'maps.flowCapacity': { min: 1024, max: 16777216, integer: true },
  flowIdleTimeoutSeconds: { min: 0.001, max: TIMER_MAX_SECONDS, integer: false, unit: 'seconds', maxReason: 'the longest a timer can wait, 24.8 days' },
  'metrics.exportIntervalSeconds': { min: 1, max: TIMER_MAX_SECONDS, integer: false, unit: 'seconds', maxReason: 'the longest a timer can wait, 24.8 days' },
  'metrics.maxVniSeries': { min: 1, max: 1048576, integer: true, maxReason: 'the most VNIs the kernel counts' },
} as const satisfies Record<string, NumericLimit>;

/** `expected a whole number from 1 to 65535`, `expected 1 to 2147483 seconds (at most: the longest ...)`. */
function limitText(l: NumericLimit): string {
  return `expected ${l.integer ? 'a whole number from ' : ''}${l.min} to ${l.max}${l.unit ? ` ${l.unit}` : ''}${l.maxReason ? ` (at most: ${l.maxReason})` : ''}`;
}

/** A number within `l`; anything else (a fraction where a whole number is due, NaN, out of range) gets limitText. */
function bounded(l: NumericLimit) {
  const error = limitText(l);
  const n = z.number({ error }).min(l.min, { error }).max(l.max, { error });
  return l.integer ? n.int({ error }) : n;
}

const port = bounded(NUMERIC_LIMITS.port);

const portList = (what: string, fallback: readonly number[]) =>
  z
    .array(port)
    .min(1, `at least one ${what} port (to turn ${what} off, give it a port no traffic uses)`)
    .refine((ports) => new Set(ports).size === ports.length, { message: 'a port is listed twice' })
    .default([...fallback])
    .describe(`UDP destination ports that carry ${what} (default [${fallback.join(', ')}])`);

/** One key per tunnel type of src/decode/tunnel-types.ts: a UDP tunnel's port list, a GRE tunnel's switch. */
const tunnelKeys = Object.fromEntries(
  TUNNEL_TYPE_TABLE.map((t) => [
    t.carrier.configKey,
    t.carrier.kind === 'udp'
      ? portList(t.title, t.carrier.defaultPorts)
      : z
          .boolean()
          .default(true)
          .describe(`Decapsulate ${t.title} (GRE protocol ${t.carrier.protocols.map((p) => `0x${p.toString(16).toUpperCase()}`).join(', ')}; default true)`),
  ]),
) as { [K in UdpPortsKey]: ReturnType<typeof portList> } & { [K in GreSwitchKey]: z.ZodDefault<z.ZodBoolean> };

/** Distinct prefixes of one family, as the trie stores them (a prefix written twice is one entry). */
function distinctPerFamily(prefixes: readonly Prefix[], family: 4 | 6): number {
  return new Set(prefixes.filter((p) => p.family === family).map((p) => `${p.prefixLen}/${Buffer.from(p.bytes).toString('hex')}`)).size;
}

const prefixList = (help: string) =>
  z
    .array(z.string())
    .default([])
    // Parsed here, once: the settings carry Prefix values, the program never parses text again.
    .transform((list, ctx): Prefix[] => {
      // The kernel's tries hold PREFIX_TRIE_CAPACITY prefixes per family: a longer list cannot load, and
      // is refused before each entry is parsed, so even a million-line list fails at once.
      if (list.length > 2 * PREFIX_TRIE_CAPACITY) {
        ctx.addIssue({
          code: 'custom',
          message: `${list.length} prefixes, more than the kernel's prefix maps hold (${PREFIX_TRIE_CAPACITY} IPv4 and ${PREFIX_TRIE_CAPACITY} IPv6); merge them into shorter prefixes`,
        });
        return z.NEVER;
      }
      const parsed: Prefix[] = [];
      list.forEach((text, i) => {
        try {
          parsed.push(parsePrefix(text));
        } catch (err) {
          ctx.addIssue({ code: 'custom', path: [i], message: err instanceof Error ? err.message : String(err) });
        }
      });
      for (const family of [4, 6] as const) {
        const count = distinctPerFamily(parsed, family);
        if (count > PREFIX_TRIE_CAPACITY) {
          ctx.addIssue({
            code: 'custom',
            message: `${count} IPv${family} prefixes, more than the kernel's prefix map holds (${PREFIX_TRIE_CAPACITY} per address family); merge them into shorter prefixes`,
          });
        }
      }
      return parsed;
    })
    .describe(`${help} (at most ${PREFIX_TRIE_CAPACITY} IPv4 and ${PREFIX_TRIE_CAPACITY} IPv6)`);

/** Linux interface names: 1-15 bytes, no '/', ':' or white space, not "." or "..". */
const interfaceName = z
  .string()
  .min(1, 'empty interface name')
  .max(15, 'Linux interface names have at most 15 characters')
  .regex(/^[^/\s:\0]+$/, "Linux interface names have no '/', ':', white space or NUL byte")
  .refine((n) => n !== '.' && n !== '..', { message: 'not a valid interface name' });

export const interfaceSchema = z.strictObject({
  name: interfaceName.describe('Capture interface (e.g. ens1f0)'),
  mode: z
    .enum(['generic', 'native', 'auto'])
    .default('generic')
    .describe('generic: skb mode, runs before AF_PACKET taps, no driver support needed (default); native: in the driver; auto: native, else generic'),
  replace: z.boolean().default(false).describe('Replace another XDP program already attached to this interface (default false: refuse and say which)'),
});

export const mapsSchema = z
  .strictObject({
    vniCapacity: bounded(NUMERIC_LIMITS['maps.vniCapacity'])
      .default(65536)
      .describe('Distinct (interface, tunnel type, VNI) counters the kernel keeps; needs a restart to change'),
    flowCapacity: bounded(NUMERIC_LIMITS['maps.flowCapacity'])
      .default(262144)
      .describe('Inner flows tracked (LRU: the least recently seen are evicted); needs a restart to change'),
  })
  .default({ vniCapacity: 65536, flowCapacity: 262144 });

const attributeValue = z.union([z.string(), z.number(), z.boolean()]);

export const metricsSchema = z
  .strictObject({
    exportIntervalSeconds: bounded(NUMERIC_LIMITS['metrics.exportIntervalSeconds'])
      .optional()
      .describe('Seconds between OTLP exports (default OTEL_METRIC_EXPORT_INTERVAL, else 60)'),
    endpoint: z
      .url({ protocol: /^https?$/, error: 'expected an http(s) URL such as http://localhost:4318/v1/metrics' })
      .optional()
      .describe('OTLP/HTTP metrics endpoint (default from OTEL_EXPORTER_OTLP_(METRICS_)ENDPOINT, else http://localhost:4318/v1/metrics)'),
    headers: z.record(z.string(), z.string()).default({}).describe('Extra HTTP headers on every export (e.g. an API key)'),
    encoding: z.enum(['protobuf', 'json']).optional().describe('OTLP/HTTP body encoding (default protobuf, or from OTEL_EXPORTER_OTLP_(METRICS_)PROTOCOL)'),
    resourceAttributes: z.record(z.string(), attributeValue).default({}).describe('Resource attributes added to service.name, service.version and host.name'),
    serviceName: z.string().min(1).optional().describe('service.name (default OTEL_SERVICE_NAME, else xdp-decap)'),
    maxVniSeries: bounded(NUMERIC_LIMITS['metrics.maxVniSeries'])
      .default(2000)
      .describe('At most this many (interface, type, VNI) series per metric; the rest are summed into one overflow series'),
  })
  .default({ headers: {}, resourceAttributes: {}, maxVniSeries: 2000 });

export const configObjectSchema = z.strictObject({
  interfaces: z.array(interfaceSchema).default([]).describe('Capture interfaces to attach to'),
  ...tunnelKeys,
  decapPrefixes: prefixList('Decapsulate only tunnels whose outer destination is in these prefixes; empty: any'),
  excludePrefixes: prefixList('Never touch packets whose outer source or destination is in these prefixes (own VTEP, management)'),
  maps: mapsSchema.describe('Kernel map sizes (fixed at start)'),
  trackFlows: z.boolean().default(true).describe('Track inner flows (flows and active-flows metrics)'),
  flowIdleTimeoutSeconds: bounded(NUMERIC_LIMITS.flowIdleTimeoutSeconds)
    .default(60)
    .describe('A flow unseen this long is no longer active, is forgotten, and counts as new when it returns'),
  metrics: metricsSchema.describe('OpenTelemetry metrics export'),
  logLevel: z
    .enum(LOG_LEVELS)
    .default('info')
    .describe(`What the daemon logs: ${LOG_LEVELS.join(', ')} (default info; \`run --log-level\` overrides it)`),
});

export const configSchema = configObjectSchema.superRefine((cfg, ctx) => {
  const portOwner = new Map<number, string>();
  for (const t of UDP_TUNNELS) {
    const key = t.carrier.configKey;
    for (const p of cfg[key]) {
      const other = portOwner.get(p);
      // Named by tunnel type, not by key: the message reads the same under the receiver's snake_case keys.
      if (other) ctx.addIssue({ code: 'custom', path: [key], message: `port ${p} is also a ${other} port; a port carries one tunnel type` });
      else portOwner.set(p, t.title);
    }
  }
  const seen = new Set<string>();
  cfg.interfaces.forEach((i, n) => {
    if (seen.has(i.name)) ctx.addIssue({ code: 'custom', path: ['interfaces', n, 'name'], message: `interface ${i.name} is listed twice` });
    seen.add(i.name);
  });
});

export type DecapConfig = z.output<typeof configSchema>;
export type DecapConfigInput = z.input<typeof configSchema>;
