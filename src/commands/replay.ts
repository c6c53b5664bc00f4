// `xdp-decap replay IN.pcap --out OUT.pcap [--config FILE] [--json]`: options table, run, print the summary.

import { capacitiesFromConfig, dataplaneFromConfig } from '../config/dataplane.ts';
import { DEFAULT_CONFIG, loadConfigFile } from '../config/load.ts';
import { type ReplaySummary, replayCapture } from '../replay/replay.ts';
import { formatReplaySummary } from '../replay/summary-table.ts';
import { command, defineCommand, helpText } from './command.ts';
import { EXIT } from './usage.ts';

const REPLAY = defineCommand({
  name: 'replay',
  summary: 'run a capture through the real program offline (BPF_PROG_TEST_RUN)',
  description: `Runs every frame of a capture (pcap or pcapng, Ethernet) through the real XDP program with
BPF_PROG_TEST_RUN, in order, with the program's maps kept across frames. Writes OUT.pcap with one
frame per input frame, as the program left it (timestamps kept), and prints a summary.
IN may be a file, a FIFO, or - for stdin; it is read once. OUT is created or replaced (never the
input, never a directory, device or FIFO); - writes to stdout, and the summary then goes to stderr.
Needs root, or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON (the capabilities plugin.json lists), to load the program.`,
  positionals: [{ name: 'IN.pcap', help: 'the capture to replay (a file, a FIFO, or - for stdin)' }],
  options: {
    out: { type: 'string', value: 'OUT.pcap', required: true, help: 'where to write the frames as the program left them (- for stdout)' },
    config: { type: 'string', value: 'FILE', help: 'YAML or JSON config: tunnel ports, prefixes, excludes, map sizes (default: built-in)' },
    json: { type: 'boolean', help: 'print the summary as one JSON object on stdout' },
  },
  examples: [
    'xdp-decap replay mirror.pcap --out decapsulated.pcap',
    'xdp-decap replay mirror.pcapng --out out.pcap --config /etc/xdp-decap/config.yaml --json | jq .vnis',
    'tcpdump -i ens1f0 -w - | xdp-decap replay - --out - | tshark -r -',
  ],
});

/** The help text, for the tests and docs that quote it. */
export const REPLAY_HELP = helpText(REPLAY);

export const replayCommand = command(REPLAY, async ({ values, positionals }) => {
  const input = positionals[0]!;
  const config = values.config ? await loadConfigFile(values.config) : DEFAULT_CONFIG;

  const progress = process.stderr.isTTY
    ? (() => {
        const started = Date.now();
        return (frames: number) => {
          const rate = frames / Math.max((Date.now() - started) / 1000, 0.001);
          process.stderr.write(`\rreplayed ${frames} frames (${Math.round(rate)}/s)`);
        };
      })()
    : undefined;
  let refusedLines = 0;
  const summary: ReplaySummary = replayCapture({
    input,
    output: values.out,
    dataplane: dataplaneFromConfig(config),
    capacities: capacitiesFromConfig(config),
    onProgress: progress,
    progressEvery: 10000,
    onRefused: (frame, reason) => {
      // One line per refused frame, capped so a capture full of them cannot flood the terminal.
      if (refusedLines++ < 20) process.stderr.write(`${input === '-' ? 'stdin' : input}: frame ${frame}: ${reason}; written unchanged\n`);
      else if (refusedLines === 21) process.stderr.write(`${input === '-' ? 'stdin' : input}: more refused frames; see skipped.test_run_refused\n`);
    },
  });
  if (progress) process.stderr.write('\n');
  // With the capture on stdout, the summary goes to stderr.
  const report = values.json ? JSON.stringify(summary) : formatReplaySummary(summary);
  if (values.out === '-') console.error(report);
  else console.log(report);
  return EXIT.ok;
});
