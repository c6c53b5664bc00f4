// `xdp-decap --version` / `-V`: this program's version, the libbpf it loads and the kernel it runs on.
import { existsSync, readFileSync } from 'node:fs';
import { version as kernelBuild, machine, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { libbpf } from '../ffi/libbpf.ts';
import { command, defineCommand } from './command.ts';
import { EXIT } from './usage.ts';

interface VersionReport {
  /** xdp-decap's version: `version` of the package.json above this file (the installed package's, once packaged). */
  version: string;
  /** libbpf_version_string() of the libbpf actually loaded, or why none loaded. */
  libbpf: { version: string } | { error: string };
  kernel: { release: string; build: string; arch: string };
  node: string;
}

/**
 * The nearest package.json named xdp-decap above this file: the checkout's (src/ or dist/src/), or
 * /usr/lib/xdp-decap/package.json in the Debian package, whose version the package build sets.
 */
export function ownPackageVersion(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'xdp-decap' && typeof pkg.version === 'string') return pkg.version;
    }
    dir = dirname(dir);
  }
  throw new Error(`no package.json named xdp-decap above ${from}`);
}

/** Gathers the report; a libbpf that does not load is reported, not thrown. */
function versionReport(): VersionReport {
  let lib: VersionReport['libbpf'];
  try {
    lib = { version: libbpf().libbpf_version_string() };
  } catch (err) {
    lib = { error: (err as Error).message.split('\n')[0]! };
  }
  return {
    version: ownPackageVersion(),
    libbpf: lib,
    kernel: { release: release(), build: kernelBuild(), arch: machine() },
    node: process.versions.node,
  };
}

function formatVersion(r: VersionReport): string {
  return [
    `xdp-decap ${r.version}`,
    'version' in r.libbpf ? `libbpf ${r.libbpf.version.replace(/^v/, '')}` : `libbpf: ${r.libbpf.error}`,
    `kernel Linux ${r.kernel.release} ${r.kernel.arch} (${r.kernel.build})`,
    `node ${r.node}`,
  ].join('\n');
}

const VERSION = defineCommand({
  name: '--version',
  summary: 'the version of xdp-decap, of the libbpf it loads and of the kernel it runs on (also -V)',
  description: 'Prints the version of xdp-decap, of the libbpf it loads and of the kernel it runs on; exits 2 when libbpf does not load.',
  options: { json: { type: 'boolean', help: 'print them as JSON' } },
  examples: ['xdp-decap --version', 'xdp-decap -V --json'],
});

export const versionCommand = command(VERSION, async ({ values }) => {
  const report = versionReport();
  console.log(values.json ? JSON.stringify(report, null, 2) : formatVersion(report));
  // A libbpf that does not load makes every other command fail: say so by the exit code too.
  return 'version' in report.libbpf ? EXIT.ok : EXIT.usage;
});
