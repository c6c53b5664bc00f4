// `xdp-decap validate`: checks a config by the rules `run` starts and reloads with; the Collector receiver asks it too.
import { ConfigError, type ConfigIssue, formatIssue } from '../config/config-error.ts';
import { loadConfigFile, runIssues } from '../config/load.ts';
import { command, defineCommand } from './command.ts';
import { EXIT } from './usage.ts';

const VALIDATE = defineCommand({
  name: 'validate',
  summary: 'check a config file by the rules run starts and reloads with, without loading anything',
  description: `Reads the config file and checks it exactly as \`xdp-decap run\` does at start and on every reload (the
schema, then what run itself needs: at least one interface). Prints one line per problem, naming the key and
the fix, and exits 2; prints a one-line summary and exits 0 when run would accept it. Needs no privilege and
touches nothing. The Collector receiver (xdp_decap) validates its settings through this command, so
\`otelcol-xdp-decap validate\` and the daemon can never disagree.`,
  options: {
    config: { type: 'string', value: 'FILE', required: true, help: 'the YAML or JSON config to check; - reads stdin' },
    json: { type: 'boolean', help: 'print {"valid": ..., "problems": [{"path": [...], "message": ...}]} on stdout instead' },
  },
  examples: ['xdp-decap validate --config /etc/xdp-decap/config.yaml', 'echo \'{"interfaces": [{"name": "ens1f0"}]}\' | xdp-decap validate --config - --json'],
});

/** The JSON the receiver reads: valid, or each problem with its key path and the hint for a mistyped key. */
interface ValidateReport {
  valid: boolean;
  source: string;
  problems: ConfigIssue[];
}

export const validateCommand = command(VALIDATE, async ({ values }) => {
  const source = values.config === '-' ? 'stdin' : values.config;
  let report: ValidateReport;
  let summary = '';
  try {
    const config = await loadConfigFile(values.config);
    const problems = runIssues(config);
    report = { valid: problems.length === 0, source, problems };
    summary = `${source}: valid: attaches to ${config.interfaces.map((i) => `${i.name} (${i.mode})`).join(', ')}`;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    report = { valid: false, source: err.source, problems: [...err.issues] };
  }
  if (values.json) console.log(JSON.stringify(report));
  else if (report.valid) console.log(summary);
  else for (const p of report.problems) console.error(`xdp-decap validate: ${report.source}: ${formatIssue(p)}`);
  return report.valid ? EXIT.ok : EXIT.usage;
});
