#!/usr/bin/env node
// The xdp-decap command line: pick the subcommand, run it, turn errors into one line and an exit code.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from './commands/command.ts';
import { demoCommand } from './commands/demo.ts';
import { detachCommand } from './commands/detach.ts';
import { reconcileCommand } from './commands/reconcile.ts';
import { replayCommand } from './commands/replay.ts';
import { runCommand } from './commands/run.ts';
import { schemaCommand } from './commands/schema.ts';
import { statusCommand } from './commands/status.ts';
import { EXIT, UsageError } from './commands/usage.ts';
import { validateCommand } from './commands/validate.ts';
import { versionCommand } from './commands/version.ts';
import { ConfigError } from './config/load.ts';
import { missingLoadCapabilities, permissionHint } from './ffi/capabilities.ts';
import { BpfError, NativeLibraryError } from './ffi/errors.ts';
import { DecapLoadError, KernelTooOldError } from './program/decap-builds.ts';
import { CaptureError } from './replay/pcap.ts';

/** Every command, in the order `xdp-decap --help` lists them; each carries the declaration its help comes from. */
const COMMANDS: readonly Command[] = [demoCommand, runCommand, validateCommand, statusCommand, detachCommand, replayCommand, reconcileCommand, schemaCommand];

export const HELP = `Usage: xdp-decap <command> [options]

XDP decapsulation of VXLAN, Geneve, VXLAN-GPE, GRE and ERSPAN for traffic-analysis hosts, with per-VNI OpenTelemetry metrics.

Commands:
${COMMANDS.map((c) => `  ${c.spec.name.padEnd(10)}${c.spec.summary}`).join('\n')}
  ${'--version'.padEnd(10)}${versionCommand.spec.summary}

Run \`xdp-decap <command> --help\` for a command's options.`;

/** Runs the CLI; returns the exit code (process.exit happens only at the very top). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    console.log(HELP);
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === '--version' || name === '-V') return versionCommand.main(rest);
  const command = COMMANDS.find((c) => c.spec.name === name);
  if (!command) {
    console.error(`xdp-decap: unknown command '${name}'; commands: ${COMMANDS.map((c) => c.spec.name).join(', ')}`);
    return EXIT.usage;
  }
  try {
    return await command.main(rest);
  } catch (err) {
    return reportError(name, err);
  }
}

/**
 * Turns what a command threw into what the user sees and the exit code. The user's mistakes (bad flags,
 * config, capture, paths, privileges) are typed errors: one line, exit 2. Anything else is a bug in
 * xdp-decap, never the input's fault: the stack and a request to report it, exit 70. Tests assert that no
 * input reaches the second branch.
 */
export function reportError(command: string, err: unknown): number {
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof CaptureError) {
    console.error(`xdp-decap ${command}: ${err.message}`);
    return EXIT.usage;
  }
  if (err instanceof TypeError && (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`xdp-decap ${command}: ${err.message}; see xdp-decap ${command} --help`);
    return EXIT.usage;
  }
  // Lack of privilege: one line, the fix named once. A verifier's refusal (EACCES as root) is not that: its
  // reason, build by build, is in the DecapLoadError's message below.
  if (err instanceof DecapLoadError && err.permissionDenied) {
    console.error(`xdp-decap ${command}: ${err.message}: ${permissionHint(missingLoadCapabilities())}`);
    return EXIT.usage;
  }
  if (err instanceof BpfError || err instanceof NativeLibraryError || err instanceof DecapLoadError || err instanceof KernelTooOldError) {
    console.error(`xdp-decap ${command}: ${err.message}`);
    return EXIT.usage;
  }
  console.error(`xdp-decap ${command}: internal error (a bug in xdp-decap, not in your input; please report it with this output):`);
  console.error(err instanceof Error ? (err.stack ?? String(err)) : err);
  return EXIT.bug;
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => process.exit(reportError(process.argv[2] ?? '', err)),
  );
}
