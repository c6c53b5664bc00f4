// `xdp-decap --version` / `-V`: the version from package.json, the libbpf really loaded, the running kernel.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ownPackageVersion } from '../../src/commands/version.ts';
import { runCli } from '../lib/cli.ts';
import { REPO_ROOT } from '../lib/env.ts';

const PACKAGE_VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

test('--version and -V print the version, the loaded libbpf and the kernel', () => {
  for (const flag of ['--version', '-V']) {
    const r = runCli([flag]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], `xdp-decap ${PACKAGE_VERSION}`);
    assert.match(lines[1]!, /^libbpf \d+\.\d+(\.\d+)?$/);
    assert.ok(lines[2]!.startsWith(`kernel Linux ${release()} `), lines[2]);
  }
  const json = JSON.parse(runCli(['--version', '--json']).stdout) as { version: string; libbpf: { version?: string }; kernel: { release: string } };
  assert.equal(json.version, PACKAGE_VERSION);
  assert.match(json.libbpf.version ?? '', /^v?\d+\.\d+/);
  assert.equal(json.kernel.release, release());
});

test('a libbpf that does not load: the version still prints, the libbpf line says why and how to fix it, exit 2', () => {
  const r = runCli(['-V'], { env: { XDP_DECAP_LIBBPF: '/nonexistent/libbpf.so.1' } });
  assert.equal(r.status, 2);
  assert.match(r.stdout, new RegExp(`^xdp-decap ${PACKAGE_VERSION.replaceAll('.', '\\.')}\n`));
  assert.match(r.stdout, /\nlibbpf: .*tried: \/nonexistent\/libbpf\.so\.1.*apt-get install libbpf1/);
  assert.equal(r.stderr, '');
});

test('the version comes from the nearest package.json named xdp-decap (the installed package sets it)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xdp-decap-version-'));
  try {
    mkdirSync(join(dir, 'dist', 'src', 'commands'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'xdp-decap', version: '9.8.7~rc1' }));
    // A package.json of another name on the way up (e.g. a dependency's) is skipped.
    writeFileSync(join(dir, 'dist', 'package.json'), JSON.stringify({ name: 'something-else', version: '1.0.0' }));
    assert.equal(ownPackageVersion(join(dir, 'dist', 'src', 'commands', 'version.js')), '9.8.7~rc1');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
