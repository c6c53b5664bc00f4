// OTEL_* precedence (the config file wins, the SDK reads the variables), secrets never in a log line or an error.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CONFIG, parseConfig } from '../../src/config/load.ts';
import { registerDecapMetrics } from '../../src/metrics/decap-metrics.ts';
import { createMeterPipeline, redactUrl } from '../../src/metrics/meter-pipeline.ts';
import { resolveMetricsSettings } from '../../src/metrics/otel-settings.ts';
import { fakeCollector, syntheticInput } from '../lib/metrics-fixture.ts';

const OTEL_VARIABLES = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_METRICS_HEADERS',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL',
  'OTEL_METRIC_EXPORT_INTERVAL',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_SERVICE_NAME',
];

/** Runs `fn` with exactly these OTEL_* variables set (the SDK reads process.env), restoring them after. */
async function withEnv<T>(vars: Record<string, string>, fn: () => T | Promise<T>): Promise<T> {
  const saved = Object.fromEntries(OTEL_VARIABLES.map((k) => [k, process.env[k]]));
  for (const k of OTEL_VARIABLES) delete process.env[k];
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const k of OTEL_VARIABLES) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

const ENV = {
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
  OTEL_EXPORTER_OTLP_HEADERS: 'api-key=s%20ecret,x-team=net',
  OTEL_METRIC_EXPORT_INTERVAL: '15000',
  OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.name=from-attrs',
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
};

test('OTEL_* environment: used when the file is silent, the file wins when it speaks', async () => {
  await withEnv(ENV, () => {
    assert.deepEqual(resolveMetricsSettings(DEFAULT_CONFIG), {
      endpoint: 'http://collector:4318/v1/metrics',
      headers: {},
      exportIntervalMillis: 15000,
      encoding: 'json',
      resourceAttributes: { 'deployment.environment': 'prod', 'service.name': 'from-attrs' },
      serviceName: 'from-attrs',
      maxVniSeries: 2000,
    });
    const file = parseConfig(
      {
        metrics: {
          endpoint: 'http://file:4318/v1/metrics',
          exportIntervalSeconds: 5,
          encoding: 'protobuf',
          headers: { 'x-team': 'file' },
          serviceName: 'svc',
          resourceAttributes: { 'deployment.environment': 'lab' },
        },
      },
      'f',
    );
    const fromFile = resolveMetricsSettings(file);
    assert.equal(fromFile.endpoint, 'http://file:4318/v1/metrics');
    assert.equal(fromFile.exportIntervalMillis, 5000);
    assert.equal(fromFile.encoding, 'protobuf');
    assert.deepEqual(fromFile.headers, { 'x-team': 'file' });
    assert.equal(fromFile.serviceName, 'svc');
    assert.equal(fromFile.resourceAttributes['deployment.environment'], 'lab');
  });
  await withEnv({ ...ENV, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://m.example/custom' }, () =>
    assert.equal(resolveMetricsSettings(DEFAULT_CONFIG).endpoint, 'https://m.example/custom'),
  );
  await withEnv({ ...ENV, OTEL_SERVICE_NAME: 'decap-a' }, () => assert.equal(resolveMetricsSettings(DEFAULT_CONFIG).serviceName, 'decap-a'));
  await withEnv({}, () =>
    assert.deepEqual(resolveMetricsSettings(DEFAULT_CONFIG), {
      endpoint: 'http://localhost:4318/v1/metrics',
      headers: {},
      exportIntervalMillis: 60000,
      encoding: 'protobuf',
      resourceAttributes: {},
      serviceName: 'xdp-decap',
      maxVniSeries: 2000,
    }),
  );
});

test('headers: the variables reach the collector, a header the file sets wins over the variable', async (t) => {
  const collector = await fakeCollector(200);
  t.after(() => collector.close());
  await withEnv({ OTEL_EXPORTER_OTLP_HEADERS: 'api-key=s%20ecret,x-team=net', OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-signal=metrics' }, async () => {
    const config = parseConfig({ metrics: { endpoint: collector.url, encoding: 'json', headers: { 'x-team': 'file' } } }, 'f');
    const pipeline = createMeterPipeline(resolveMetricsSettings(config), (line) => assert.fail(line));
    registerDecapMetrics({ meterProvider: pipeline.meterProvider, read: () => syntheticInput(1), maxVniSeries: 10, interfaceName: String });
    await pipeline.shutdown();
  });
  const headers = collector.requests.at(-1)?.headers;
  assert.ok(headers, 'an export arrived');
  assert.equal(headers['api-key'], 's ecret', 'OTEL_EXPORTER_OTLP_HEADERS, %-decoded');
  assert.equal(headers['x-signal'], 'metrics', 'OTEL_EXPORTER_OTLP_METRICS_HEADERS');
  assert.equal(headers['x-team'], 'file', 'the file wins');
});

test("bad variables: one line naming the variable; a header entry's secret is never echoed", async () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ OTEL_METRIC_EXPORT_INTERVAL: 'soon' }, /OTEL_METRIC_EXPORT_INTERVAL: "soon": expected milliseconds/],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector' }, /OTEL_EXPORTER_OTLP_ENDPOINT: "<unparsable URL>" is not a URL/],
    [{ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'ftp://u:hunter2@c/x' }, /OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "ftp:\/\/\*\*\*@c\/x": expected http or https/],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, /OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" is not supported/],
    [{ OTEL_EXPORTER_OTLP_HEADERS: 'x-team=net,Authorization: Bearer hunter2' }, /OTEL_EXPORTER_OTLP_HEADERS: entry 2 is not key=value \(value not shown/],
    [{ OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'api-key=hunter2%zz' }, /OTEL_EXPORTER_OTLP_METRICS_HEADERS: entry 1 has a malformed %-escape/],
    [{ OTEL_RESOURCE_ATTRIBUTES: 'novalue' }, /OTEL_RESOURCE_ATTRIBUTES: entry 1 is not key=value/],
  ];
  for (const [vars, expected] of cases) {
    await withEnv(vars, () => {
      const err = (() => {
        try {
          resolveMetricsSettings(DEFAULT_CONFIG);
        } catch (e) {
          return e as Error;
        }
        return assert.fail(`accepted ${JSON.stringify(vars)}`);
      })();
      assert.match(err.message, expected);
      assert.doesNotMatch(err.message, /hunter2/, 'the secret is not in the message');
      assert.equal(err.message.split('\n').length, 1, 'one line');
    });
  }
});

test('redactUrl: credentials and query values hidden, the rest kept', () => {
  assert.equal(
    redactUrl('https://user:p%40ss@otlp.example:4318/v1/metrics?api_key=abc123&tenant=t1'),
    'https://***@otlp.example:4318/v1/metrics?api_key=***&tenant=***',
  );
  assert.equal(redactUrl('http://collector:4318/v1/metrics'), 'http://collector:4318/v1/metrics');
  assert.equal(redactUrl('http://token@collector/v1/metrics#frag'), 'http://***@collector/v1/metrics');
  assert.equal(redactUrl('not a url hunter2'), '<unparsable URL>');
});
