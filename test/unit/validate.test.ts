// `xdp-decap validate`: the rules `run` starts and reloads with, through the real CLI; every numeric limit at, below and above its bound.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { ConfigError } from '../../src/config/config-error.ts';
import { parseConfig } from '../../src/config/load.ts';
import { NUMERIC_LIMITS } from '../../src/config/schema.ts';
import { runCli } from '../lib/cli.ts';

function withFile<T>(name: string, body: string, fn: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'xdp-decap-validate-'));
  try {
    const path = join(dir, name);
    writeFileSync(path, body);
    return fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a config run would start: exit 0 and what it attaches to', () => {
  withFile('ok.yaml', 'interfaces:\n  - name: ens1f0\n    mode: native\n', (path) => {
    const r = runCli(['validate', '--config', path]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `${path}: valid: attaches to ens1f0 (native)`);
  });
});

test('what run refuses, validate refuses with the same line (nothing to attach, a fractional port, a huge interval)', () => {
  for (const [body, problem] of [
    ['interfaces: []\n', /interfaces: nothing to attach: list the capture interfaces/],
    ['interfaces: [{name: eth0}]\nvxlanPorts: [4789.9]\n', /vxlanPorts\[0\]: expected a whole number from 1 to 65535/],
    ['interfaces: [{name: eth0}]\nmetrics: {exportIntervalSeconds: 3600000}\n', /metrics\.exportIntervalSeconds: expected 1 to 2147483 seconds/],
  ] as const) {
    withFile('bad.yaml', body, (path) => {
      const v = runCli(['validate', '--config', path]);
      const r = runCli(['run', '--config', path]);
      assert.equal(v.status, 2, v.stderr);
      assert.equal(r.status, 2, r.stderr);
      assert.match(v.stderr, problem);
      assert.equal(v.stderr.replace(/^xdp-decap validate: /gm, ''), r.stderr.replace(/^xdp-decap run: /gm, ''), 'the same lines');
      assert.equal(v.stderr.trim().split('\n').length, 1, v.stderr);
    });
  }
});

test('--config - --json: stdin, and each problem with its key path and the hint for a mistyped key', () => {
  const r = runCli(['validate', '--config', '-', '--json'], { input: JSON.stringify({ interfaces: [{ name: 'eth0', mod: 'native' }], vxlanPrts: [1] }) });
  assert.equal(r.status, 2, r.stderr);
  const report = JSON.parse(r.stdout) as {
    valid: boolean;
    source: string;
    problems: Array<{ path: Array<string | number>; message: string; didYouMean?: string }>;
  };
  assert.equal(report.valid, false);
  assert.equal(report.source, 'stdin');
  assert.deepEqual(
    report.problems.map((p) => [p.path, p.message, p.didYouMean]),
    [
      [['interfaces', 0, 'mod'], 'unknown key', 'mode'],
      [['vxlanPrts'], 'unknown key', 'vxlanPorts'],
    ],
  );
  const ok = runCli(['validate', '--config', '-', '--json'], { input: '{"interfaces": [{"name": "eth0"}]}' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(JSON.parse(ok.stdout), { valid: true, source: 'stdin', problems: [] });
});

/** The config that holds `value` at the key NUMERIC_LIMITS names (a port is the first VXLAN port). */
function configWith(key: string, value: number): Record<string, unknown> {
  if (key === 'port') return { vxlanPorts: [value] };
  const [head, tail] = key.split('.') as [string, string | undefined];
  return tail ? { [head]: { [tail]: value } } : { [head]: value };
}
const keyOf = (key: string) => (key === 'port' ? 'vxlanPorts[0]' : key);

test('every numeric setting: accepted at and within its bounds, refused just below and just above, the key named', () => {
  for (const [key, l] of Object.entries(NUMERIC_LIMITS)) {
    const step = l.integer ? 1 : Math.min(l.min / 2, 0.0005);
    for (const ok of [l.min, l.max]) assert.doesNotThrow(() => parseConfig(configWith(key, ok), 'x'), `${key} = ${ok}`);
    for (const bad of [l.min - step, l.max + step, Number.NaN, ...(l.integer ? [l.min + 0.5] : [])]) {
      assert.throws(
        () => parseConfig(configWith(key, bad), 'x'),
        (e: unknown) => e instanceof ConfigError && e.problems.length === 1 && e.problems[0]!.startsWith(`${keyOf(key)}: expected`),
        `${key} = ${bad}`,
      );
    }
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (v) => {
        const inRange = v >= l.min && v <= l.max && (!l.integer || Number.isInteger(v));
        let accepted = true;
        try {
          parseConfig(configWith(key, v), 'x');
        } catch {
          accepted = false;
        }
        return accepted === inRange;
      }),
      { numRuns: 300 },
    );
  }
});
