// The command line shared by the scripts that regenerate committed files from their source: print, --write, --check.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';

/** One generated file: where it lives and what its source renders. */
export interface GeneratedFile {
  path: string;
  expected: string;
}

export interface GeneratorCli {
  usage: string;
  root: string;
  /** What the files are generated from, and what a stale file's error line tells the user to run. */
  source: string;
  fix: string;
  /** The files, given the --out option when the generator takes one. */
  files: (out: string | undefined) => GeneratedFile[];
  /** What the script prints without an option. */
  print: () => string;
  takesOut?: boolean;
}

/** Parses the options and prints, writes or checks the files; exits 2 on bad options, 1 when --check finds one stale. */
export function runGenerator(cli: GeneratorCli): void {
  let values: { write?: boolean; check?: boolean; out?: string; help?: boolean };
  try {
    const options = { write: { type: 'boolean' }, check: { type: 'boolean' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;
    values = parseArgs({ options }).values;
    if (values.out !== undefined && !cli.takesOut) throw new Error("Unknown option '--out'");
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${cli.usage}`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(cli.usage);
    process.exit(0);
  }
  if (values.write && values.check) {
    process.stderr.write(cli.usage);
    process.exit(2);
  }
  if (!values.write && !values.check) {
    process.stdout.write(cli.print());
    return;
  }
  const stale = cli.files(values.out).filter((f) => (existsSync(f.path) ? readFileSync(f.path, 'utf8') : '') !== f.expected);
  for (const f of stale) {
    if (values.write) {
      writeFileSync(f.path, f.expected);
      process.stdout.write(`wrote ${relative(cli.root, f.path)}\n`);
    } else {
      process.stderr.write(`${relative(cli.root, f.path)} is out of date with ${cli.source}: run ${cli.fix}\n`);
    }
  }
  if (values.check && stale.length > 0) process.exit(1);
}
