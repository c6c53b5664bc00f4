// The private metrics channel to the Collector receiver: framing, the exporter chosen by XDP_DECAP_METRICS_FD, JSON log lines.

import assert from 'node:assert/strict';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createMeterPipeline } from '../../src/metrics/meter-pipeline.ts';
import { METRICS_FD_ENV, metricsFdFromEnv } from '../../src/metrics/pipe-exporter.ts';
import { createStderrLogger, LOG_FORMAT_ENV } from '../../src/plugin/logger.ts';

const settings = {
  endpoint: 'http://127.0.0.1:9/v1/metrics', // never contacted: the pipe replaces it
  headers: {},
  exportIntervalMillis: 60_000,
  encoding: 'protobuf' as const,
  resourceAttributes: {},
  serviceName: 'pipe-test',
  maxVniSeries: 10,
};

/** Splits length-prefixed frames; fails on a torn frame. */
function frames(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    assert.ok(at + 4 <= bytes.length, 'a whole length prefix');
    const n = bytes.readUInt32BE(at);
    assert.ok(at + 4 + n <= bytes.length, `a whole frame of ${n} bytes`);
    out.push(bytes.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return out;
}

test('with XDP_DECAP_METRICS_FD the pipeline writes one length-prefixed OTLP protobuf request per export to that descriptor, and nothing over HTTP', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'xdp-decap-pipe-'));
  try {
    const file = join(dir, 'frames.bin');
    const fd = openSync(file, 'w');
    const warnings: string[] = [];
    const pipeline = createMeterPipeline(settings, (l) => warnings.push(l), { [METRICS_FD_ENV]: String(fd) });
    const counter = pipeline.meterProvider.getMeter('t').createCounter('decap.test.counter', { unit: '{packet}' });
    counter.add(41, { 'decap.tunnel.id': 100 });
    await pipeline.forceFlush();
    counter.add(1, { 'decap.tunnel.id': 100 });
    await pipeline.shutdown();
    const got = frames(readFileSync(file));
    assert.equal(got.length, 2, 'one frame per export: the flush and the last export at shutdown');
    for (const f of got) {
      assert.ok(f.includes(Buffer.from('decap.test.counter')), 'the metric name is in the protobuf request');
      assert.ok(f.includes(Buffer.from('pipe-test')), 'the resource (service.name) is in it');
    }
    assert.deepEqual(warnings, [], 'no export failure');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('XDP_DECAP_METRICS_FD must name an inherited descriptor', () => {
  assert.equal(metricsFdFromEnv({}), undefined);
  assert.equal(metricsFdFromEnv({ [METRICS_FD_ENV]: '3' }), 3);
  assert.throws(() => metricsFdFromEnv({ [METRICS_FD_ENV]: 'pipe' }), /XDP_DECAP_METRICS_FD=pipe: expected an inherited file descriptor number >= 3/);
  assert.throws(() => metricsFdFromEnv({ [METRICS_FD_ENV]: '1' }), />= 3/);
});

test('XDP_DECAP_LOG_FORMAT=json: one JSON object per line with level and msg; text otherwise', () => {
  const lines: string[] = [];
  const json = createStderrLogger('info', (l) => lines.push(l) > 0, { [LOG_FORMAT_ENV]: 'json' });
  json.debug('hidden');
  json.warn('interface cap0: does not exist; will attach when it appears');
  assert.deepEqual(
    lines.map((l) => JSON.parse(l)),
    [{ level: 'warn', msg: 'interface cap0: does not exist; will attach when it appears' }],
  );
  assert.ok(lines[0]!.endsWith('\n'));
  const text: string[] = [];
  createStderrLogger('info', (l) => text.push(l) > 0, {}).error('boom');
  assert.deepEqual(text, ['xdp-decap error: boom\n']);
});
