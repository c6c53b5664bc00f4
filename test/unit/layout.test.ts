// Checks src/decode/layout.ts against bpf/decap_shared.h: every size, offset and enum value, compiled by a real C compiler.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FLOW_CACHE_SLOTS, LAYOUT, LOST_COUNTERS, OUTCOME_IFINDEX_SLOTS, OUTCOMES, TUNNEL_TYPE_IDS, VNI_CACHE_BITS } from '../../src/decode/layout.ts';
import { findCompiler, REPO_ROOT } from '../lib/env.ts';

const ENUMS: Record<string, string> = {
  ...Object.fromEntries(OUTCOMES.map((o) => [o, `OUTCOME_${o.toUpperCase()}`])),
  ...Object.fromEntries(LOST_COUNTERS.map((l) => [`lost:${l}`, `LOST_${l.toUpperCase()}`])),
  ...Object.fromEntries(Object.keys(TUNNEL_TYPE_IDS).map((t) => [`tunnel:${t}`, `TUNNEL_${t.toUpperCase().replace(/-/g, '_')}`])),
  tunnel_type_max: 'TUNNEL_TYPE_MAX',
  slots: 'OUTCOME_IFINDEX_SLOTS',
  outcome_max: 'OUTCOME_MAX',
  flow_cache_slots: 'FLOW_CACHE_SLOTS',
  vni_cache_bits: 'VNI_CACHE_BITS',
};

/** A C program that prints sizeof/offsetof of every LAYOUT field and every enum value as JSON. */
function probeSource(): string {
  const lines: string[] = [];
  for (const [struct, fields] of Object.entries(LAYOUT)) {
    lines.push(`printf("\\"${struct}.size\\":%zu,", sizeof(struct ${struct}));`);
    for (const field of Object.keys(fields)) {
      if (field === 'size') continue;
      lines.push(`printf("\\"${struct}.${field}\\":%zu,", offsetof(struct ${struct}, ${field}));`);
    }
  }
  for (const [key, cname] of Object.entries(ENUMS)) lines.push(`printf("\\"enum.${key}\\":%d,", (int)${cname});`);
  return `#include <stdio.h>\n#include <stddef.h>\n#include "decap_shared.h"\nint main(void){printf("{");\n${lines.join('\n')}\nprintf("\\"end\\":0}");return 0;}\n`;
}

test('layout.ts matches decap_shared.h as a C compiler lays it out', (t) => {
  const cc = findCompiler();
  if (!cc) {
    if (process.env.CI) assert.fail('no C compiler (cc, gcc or clang) in CI: the test script must install clang');
    t.skip('no C compiler found (install clang); this check runs in CI');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'xdp-decap-layout-'));
  try {
    const src = join(dir, 'probe.c');
    const bin = join(dir, 'probe');
    writeFileSync(src, probeSource());
    execFileSync(cc, ['-I', join(REPO_ROOT, 'bpf'), '-o', bin, src], { stdio: 'pipe' });
    const actual = JSON.parse(execFileSync(bin, { encoding: 'utf8' })) as Record<string, number>;
    for (const [struct, fields] of Object.entries(LAYOUT)) {
      for (const [field, value] of Object.entries(fields)) {
        assert.equal(value, actual[`${struct}.${field}`], `${struct}.${field}: layout.ts says ${value}, C says ${actual[`${struct}.${field}`]}`);
      }
    }
    for (const [i, o] of OUTCOMES.entries()) assert.equal(actual[`enum.${o}`], i, `OUTCOMES[${i}] is ${o} but C has it at ${actual[`enum.${o}`]}`);
    for (const [i, l] of LOST_COUNTERS.entries()) assert.equal(actual[`enum.lost:${l}`], i, `LOST_COUNTERS[${i}]`);
    for (const [name, id] of Object.entries(TUNNEL_TYPE_IDS)) assert.equal(actual[`enum.tunnel:${name}`], id, `tunnel ${name}`);
    assert.equal(
      actual['enum.tunnel_type_max'],
      Math.max(...Object.values(TUNNEL_TYPE_IDS)) + 1,
      'TUNNEL_TYPE_MAX: one past the last type in src/decode/tunnel-types.ts',
    );
    assert.equal(actual['enum.slots'], OUTCOME_IFINDEX_SLOTS, 'OUTCOME_IFINDEX_SLOTS');
    assert.equal(actual['enum.outcome_max'], OUTCOMES.length, 'OUTCOME_MAX');
    assert.equal(actual['enum.flow_cache_slots'], FLOW_CACHE_SLOTS, 'FLOW_CACHE_SLOTS');
    assert.equal(actual['enum.vni_cache_bits'], VNI_CACHE_BITS, 'VNI_CACHE_BITS');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
