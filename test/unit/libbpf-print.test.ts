// libbpf's own diagnostics reach our callback (koffi callback + vsnprintf), instead of being dropped; no root needed.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BpfObject } from '../../src/ffi/bpf-object.ts';
import { type LibbpfPrintLevel, setLibbpfPrint } from '../../src/ffi/libbpf.ts';

test('a file libbpf cannot open: its own message, formatted, reaches the print callback; none once unset', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xdp-decap-libbpf-print-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bogus = join(dir, 'not-elf.bpf.o');
  writeFileSync(bogus, 'this is not an ELF object');
  const lines: Array<[LibbpfPrintLevel, string]> = [];
  setLibbpfPrint((level, line) => lines.push([level, line]));
  t.after(() => setLibbpfPrint(undefined));
  assert.throws(() => BpfObject.open(bogus));
  assert.ok(lines.length > 0, 'libbpf said something');
  assert.ok(
    lines.some(([, line]) => line.includes(bogus)),
    `a line names the file (printf arguments formatted): ${JSON.stringify(lines)}`,
  );
  assert.ok(lines.every(([level, line]) => ['warn', 'info', 'debug'].includes(level) && !line.includes('%') && !line.endsWith('\n')));
  setLibbpfPrint(undefined);
  const before = lines.length;
  assert.throws(() => BpfObject.open(bogus));
  assert.equal(lines.length, before, 'dropped again once unset');
});
