// Which decap object is loaded: decap.bpf.o where it loads, decap-compat.bpf.o where it does not (kernels before 6.2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decapObjectCandidates, loadFirstThatLoads } from '../../src/program/decap-program.ts';

test('the candidates are decap.bpf.o then decap-compat.bpf.o; XDP_DECAP_BPF_OBJECT alone when set', () => {
  const saved = process.env['XDP_DECAP_BPF_OBJECT'];
  try {
    delete process.env['XDP_DECAP_BPF_OBJECT'];
    const c = decapObjectCandidates();
    assert.deepEqual(c.map((p) => p.split('/').pop()), ['decap.bpf.o', 'decap-compat.bpf.o']);
    process.env['XDP_DECAP_BPF_OBJECT'] = c[1]!;
    assert.deepEqual(decapObjectCandidates(), [c[1]]);
  } finally {
    if (saved === undefined) delete process.env['XDP_DECAP_BPF_OBJECT'];
    else process.env['XDP_DECAP_BPF_OBJECT'] = saved;
  }
});

test('the first object that loads is used; when none loads, the last error is thrown', () => {
  const tried: string[] = [];
  const load = (fail: Set<string>) => (path: string) => {
    tried.push(path);
    if (fail.has(path)) throw new Error(`${path}: load failed`);
    return path;
  };
  assert.equal(loadFirstThatLoads(['new', 'compat'], load(new Set())), 'new');
  assert.deepEqual(tried, ['new']);
  tried.length = 0;
  assert.equal(loadFirstThatLoads(['new', 'compat'], load(new Set(['new']))), 'compat');
  assert.deepEqual(tried, ['new', 'compat']);
  assert.throws(() => loadFirstThatLoads(['new', 'compat'], load(new Set(['new', 'compat']))), /compat: load failed/);
});
