// The oldest supported kernel is written once in code (MIN_KERNEL) and said the same in plugin.json, the README and the package.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MIN_KERNEL_TEXT } from '../../src/program/decap-builds.ts';
import { REPO_ROOT } from '../lib/env.ts';

const read = (...p: string[]) => readFileSync(join(REPO_ROOT, ...p), 'utf8');

test(`plugin.json, the README and the xdp-decap package all say Linux ${MIN_KERNEL_TEXT} or newer, and nothing older`, () => {
  const manifest = JSON.parse(read('plugin.json')) as { requirements: { kernel: string } };
  assert.match(manifest.requirements.kernel, new RegExp(`^>= ${MIN_KERNEL_TEXT.replace('.', '\\.')}: `));
  assert.ok(read('README.md').includes(`xdp-decap needs **Linux ${MIN_KERNEL_TEXT} or newer**`), 'README, Kernels');
  assert.ok(read('packaging', 'xdp-decap', 'control.in').includes(`It needs Linux ${MIN_KERNEL_TEXT} or newer`), 'the package description');
  for (const [where, text] of [
    ['plugin.json', read('plugin.json')],
    ['README.md', read('README.md')],
  ]) {
    assert.doesNotMatch(text!, /kernel >= 5\.|Linux 5\.\d+ or newer|>= 5\.18/, `${where} claims no older kernel`);
  }
});
