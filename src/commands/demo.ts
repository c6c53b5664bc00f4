// `xdp-decap demo`: the README's main job; options table, preflight, run, print the summary.
import { buildDemoCollector } from '../demo/collector.ts';
import { demoPreflight, runDemo } from '../demo/demo.ts';
import { DemoInterrupted } from '../demo/steps.ts';
import { formatDemoSummary } from '../demo/summary.ts';
import { command, defineCommand } from './command.ts';
import { EXIT, UsageError } from './usage.ts';

const DEMO = defineCommand({
  name: 'demo',
  summary: 'a one-minute demo on a throwaway testbed: tap before/after, metrics, sent vs counted',
  description: `Shows what xdp-decap does in about a minute, on a throwaway testbed it builds and removes itself:
a "mirror source" namespace sends real VXLAN traffic (ip link add type vxlan) for a few VNIs, plus
Geneve frames, an ERSPAN port mirror and plain traffic, to a "capture host" namespace. tcpdump on the
capture interface shows only the tunnel before xdp-decap, and the inner client flows after. xdp-decap runs
exactly as \`xdp-decap run\` does, exporting OTLP to a receiver the demo starts (or to --otlp URL), and the
summary checks that every VNI counted exactly what was sent. Needs root.`,
  options: {
    duration: { type: 'string', value: 'SECONDS', integer: { min: 1, max: 600 }, default: '10', help: 'traffic time with xdp-decap attached' },
    vnis: { type: 'string', value: 'N', integer: { min: 1, max: 20 }, default: '3', help: 'number of VXLAN tunnels' },
    otlp: {
      type: 'string',
      value: 'URL',
      help: 'export to this OTLP/HTTP metrics endpoint (protobuf) instead of the built-in receiver',
      check: (v) => {
        try {
          return ['http:', 'https:'].includes(new URL(v).protocol) ? undefined : 'expected an http(s) URL';
        } catch {
          return 'not a URL; expected e.g. http://collector:4318/v1/metrics';
        }
      },
    },
    collector: {
      type: 'boolean',
      help: 'run xdp-decap through the real OpenTelemetry Collector and its xdp_decap receiver (built by scripts/build-collector.sh: needs Go; minutes the first time, then cached)',
    },
    json: { type: 'boolean', help: 'print the summary as JSON on stdout (progress goes to stderr)' },
  },
  examples: ['xdp-decap demo', 'xdp-decap demo --duration 5 --vnis 2 --json'],
});

export const demoCommand = command(DEMO, async ({ values }) => {
  const duration = values.duration;
  const vnis = values.vnis;
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
});
