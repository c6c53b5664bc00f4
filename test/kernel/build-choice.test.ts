// The daemon's choice of build on this kernel: decap.bpf.o on Linux 6.2+, decap-compat.bpf.o before; said, with why.

import assert from 'node:assert/strict';
import { release } from 'node:os';
import { basename } from 'node:path';
import { test } from 'node:test';
import { BpfLoadError } from '../../src/ffi/bpf-object.ts';
import { bpfObjectPath, DecapProgram } from '../../src/program/decap-program.ts';
import { requireRoot } from '../lib/env.ts';

/** Linux 6.2 added the kfunc decap.bpf.o needs: the expectation from the release, not from the probe the code uses. */
const [major, minor] = release().split('.').map(Number) as [number, number];
const HAS_KFUNC = major > 6 || (major === 6 && minor >= 2);

test('the daemon loads the build this kernel supports (decap.bpf.o on Linux 6.2+, else decap-compat.bpf.o) and says which and why', (t) => {
  if (!requireRoot(t, 'loading the XDP program')) return;
  const program = DecapProgram.load();
  try {
    assert.equal(basename(program.objectPath), HAS_KFUNC ? 'decap.bpf.o' : 'decap-compat.bpf.o', `on Linux ${release()}`);
    assert.match(program.buildNote, new RegExp(`^loaded ${program.objectPath}: this kernel ${HAS_KFUNC ? 'has' : 'lacks'} bpf_cast_to_kern_ctx`));
    assert.doesNotMatch(program.buildNote, /did not load/, 'the first build tried loaded');
  } finally {
    program.close();
  }
});

test('every build the package ships: it loads where the kernel has what it needs, else the reason names what is missing', (t) => {
  if (!requireRoot(t, 'loading the XDP program')) return;
  const compat = DecapProgram.load(undefined, undefined, bpfObjectPath('decap-compat'));
  compat.close();
  if (HAS_KFUNC) {
    DecapProgram.load(undefined, undefined, bpfObjectPath('decap')).close();
    return;
  }
  assert.throws(
    () => DecapProgram.load(undefined, undefined, bpfObjectPath('decap')),
    (err: unknown) => err instanceof BpfLoadError && err.reason.some((line) => /bpf_cast_to_kern_ctx/.test(line)),
  );
});
