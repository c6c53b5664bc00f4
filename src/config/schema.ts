// The config file's schema (zod): every setting, its default, its limits and its help text.
import { z } from 'zod';
import { parsePrefix, PREFIX_TRIE_CAPACITY, type Prefix } from './prefixes.ts';
import { TUNNEL_TYPE_TABLE, UDP_TUNNELS, type GreSwitchKey, type UdpPortsKey } from '../decode/tunnel-types.ts';

const port = z.number().int().min(1).max(65535);

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
    .superRefine((list, ctx) => {
      // The kernel's tries hold PREFIX_TRIE_CAPACITY prefixes per family: a longer list cannot load, and
      // is refused before each entry is parsed, so even a million-line list fails at once.
      if (list.length > 2 * PREFIX_TRIE_CAPACITY) {
        ctx.addIssue({
          code: 'custom',
          message: `${list.length} prefixes, more than the kernel's prefix maps hold (${PREFIX_TRIE_CAPACITY} IPv4 and ${PREFIX_TRIE_CAPACITY} IPv6); merge them into shorter prefixes`,
        });
        return;
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
    })
    .describe(`${help} (at most ${PREFIX_TRIE_CAPACITY} IPv4 and ${PREFIX_TRIE_CAPACITY} IPv6)`);

/** Linux interface names: 1-15 bytes, no '/', ':' or white space, not "." or "..". */
const interfaceName = z
  .string()
  .min(1, 'empty interface name')
  .max(15, 'Linux interface names have at most 15 characters')
  .regex(/^[^/\s:]+$/, "Linux interface names have no '/', ':' or white space")
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
    vniCapacity: z
      .number()
      .int()
      .min(1)
      .max(1048576)
      .default(65536)
      .describe('Distinct (interface, tunnel type, VNI) counters the kernel keeps; needs a restart to change'),
    flowCapacity: z
      .number()
      .int()
      .min(1024)
      .max(16777216)
      .default(262144)
      .describe('Inner flows tracked (LRU: the least recently seen are evicted); needs a restart to change'),
  })
  .default({ vniCapacity: 65536, flowCapacity: 262144 });

const attributeValue = z.union([z.string(), z.number(), z.boolean()]);

export const metricsSchema = z
  .strictObject({
    exportIntervalSeconds: z.number().min(1).optional().describe('Seconds between OTLP exports (default OTEL_METRIC_EXPORT_INTERVAL, else 60)'),
    endpoint: z
      .url({ protocol: /^https?$/, error: 'expected an http(s) URL such as http://localhost:4318/v1/metrics' })
      .optional()
      .describe('OTLP/HTTP metrics endpoint (default from OTEL_EXPORTER_OTLP_(METRICS_)ENDPOINT, else http://localhost:4318/v1/metrics)'),
    headers: z.record(z.string(), z.string()).default({}).describe('Extra HTTP headers on every export (e.g. an API key)'),
    encoding: z.enum(['protobuf', 'json']).optional().describe('OTLP/HTTP body encoding (default protobuf, or from OTEL_EXPORTER_OTLP_(METRICS_)PROTOCOL)'),
    resourceAttributes: z.record(z.string(), attributeValue).default({}).describe('Resource attributes added to service.name, service.version and host.name'),
    serviceName: z.string().min(1).optional().describe('service.name (default OTEL_SERVICE_NAME, else xdp-decap)'),
    maxVniSeries: z
      .number()
      .int()
      .min(1)
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
  flowIdleTimeoutSeconds: z
    .number()
    .positive()
    .default(60)
    .describe('A flow unseen this long is no longer active, is forgotten, and counts as new when it returns'),
  metrics: metricsSchema.describe('OpenTelemetry metrics export'),
});

export const configSchema = configObjectSchema.superRefine((cfg, ctx) => {
  const portOwner = new Map<number, UdpPortsKey>();
  for (const t of UDP_TUNNELS) {
    const key = t.carrier.configKey;
    for (const p of cfg[key]) {
      const other = portOwner.get(p);
      if (other) ctx.addIssue({ code: 'custom', path: [key], message: `port ${p} is in both ${other} and ${key}; a port carries one tunnel type` });
      else portOwner.set(p, key);
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
