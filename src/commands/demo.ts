// `xdp-decap demo`: the README's main job; options table, preflight, run, print the summary.
import { parseArgs } from 'node:util';
import { buildDemoCollector } from '../demo/collector.ts';
import { DemoInterrupted, demoPreflight, formatDemoSummary, runDemo } from '../demo/demo.ts';
import { EXIT, UsageError } from './usage.ts';

export const DEMO_HELP = `Usage: xdp-decap demo [--duration SECONDS] [--vnis N] [--otlp URL | --collector] [--json]

Shows what xdp-decap does in about a minute, on a throwaway testbed it builds and removes itself:
a "mirror source" namespace sends real VXLAN traffic (ip link add type vxlan) for a few VNIs, plus
Geneve frames and plain traffic, to a "capture host" namespace. tcpdump on the capture interface
shows only the tunnel before xdp-decap, and the inner client flows after. xdp-decap runs exactly as
\`xdp-decap run\` does, exporting OTLP to a receiver the demo starts (or to --otlp URL), and the
summary checks that every VNI counted exactly what was sent. Needs root.

Options:
  --duration SECONDS   traffic time with xdp-decap attached (default 10)
  --vnis N             number of VXLAN tunnels, 1-20 (default 3)
  --otlp URL           export to this OTLP/HTTP metrics endpoint (protobuf) instead of the built-in receiver
  --collector          run xdp-decap through the real OpenTelemetry Collector and its xdp_decap receiver
                       (built by scripts/build-collector.sh: needs Go; minutes the first time, then cached)
  --json               print the summary as JSON on stdout (progress goes to stderr)
  -h, --help           this help`;

export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '10' },
      vnis: { type: 'string', default: '3' },
      otlp: { type: 'string' },
      collector: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(DEMO_HELP);
    return EXIT.ok;
  }
  const duration = Number(values.duration);
  if (!Number.isInteger(duration) || duration < 1 || duration > 600)
    throw new UsageError(`--duration ${values.duration}: expected whole seconds from 1 to 600`);
  const vnis = Number(values.vnis);
  if (!Number.isInteger(vnis) || vnis < 1 || vnis > 20) throw new UsageError(`--vnis ${values.vnis}: expected a whole number from 1 to 20`);
  if (values.otlp !== undefined) {
    let url: URL;
    try {
      url = new URL(values.otlp);
    } catch {
      throw new UsageError(`--otlp ${values.otlp}: not a URL; expected e.g. http://collector:4318/v1/metrics`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--otlp ${values.otlp}: expected an http(s) URL`);
  }
  if (values.collector && values.otlp !== undefined) throw new UsageError('--collector and --otlp: choose one (with --collector the Collector exports)');
  const problems = demoPreflight();
  if (problems.length > 0) {
    for (const p of problems) console.error(`xdp-decap demo: ${p}`);
    return EXIT.usage;
  }
  let collectorBinary: string | undefined;
  if (values.collector) {
    process.stderr.write('• building the OpenTelemetry Collector with the xdp_decap receiver (scripts/build-collector.sh; cached after the first build)\n');
    try {
      collectorBinary = buildDemoCollector();
    } catch (err) {
      console.error(`xdp-decap demo: ${err instanceof Error ? err.message : String(err)}`);
      return EXIT.usage;
    }
  }
  const toStderr = values.json || !process.stdout.isTTY;
  const out = (text: string) => (values.json ? process.stderr : process.stdout).write(`${text}\n`);
  let liveLines = 0;
  const live = toStderr
    ? undefined
    : (text: string) => {
        // Redraw the live table in place.
        if (liveLines > 0) process.stdout.write(`\x1b[${liveLines}A\x1b[J`);
        process.stdout.write(`${text}\n`);
        liveLines = text.split('\n').length;
      };
  let summary: Awaited<ReturnType<typeof runDemo>>;
  try {
    summary = await runDemo({ durationSeconds: duration, vnis, otlpUrl: values.otlp, collectorBinary, out, live });
  } catch (err) {
    if (!(err instanceof DemoInterrupted)) throw err;
    console.error(`xdp-decap demo: ${err.message}`);
    return 130;
  }
  console.log(values.json ? JSON.stringify(summary) : formatDemoSummary(summary));
  return summary.ok ? EXIT.ok : EXIT.findings;
}
