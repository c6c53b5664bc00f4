// Which config changes need a restart: compared by value (key order does not matter), removals count too.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig, settingsNeedingRestart } from '../../src/config/load.ts';

test('the same metrics settings written in another key order need no restart', () => {
  const before = parseConfig({ metrics: { headers: { a: '1', b: '2' }, resourceAttributes: { x: 'y', 'deployment.environment': 'prod' } } }, 'a');
  const after = parseConfig({ metrics: { resourceAttributes: { 'deployment.environment': 'prod', x: 'y' }, headers: { b: '2', a: '1' } } }, 'b');
  assert.deepEqual(settingsNeedingRestart(before, after), []);
});

test('a changed header value, or a metrics setting removed from the file, needs a restart', () => {
  const before = parseConfig({ metrics: { endpoint: 'http://c:4318/v1/metrics', headers: { a: '1' } } }, 'a');
  assert.deepEqual(settingsNeedingRestart(before, parseConfig({ metrics: { endpoint: 'http://c:4318/v1/metrics', headers: { a: '2' } } }, 'b')), [
    'metrics.headers',
  ]);
  assert.deepEqual(settingsNeedingRestart(before, parseConfig({ metrics: { headers: { a: '1' } } }, 'b')), ['metrics.endpoint']);
});
