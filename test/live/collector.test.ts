// xdp-decap in a real OpenTelemetry Collector beside a real NetFlow exporter: what softflowd reports without and with decap, and both streams at the collector's Prometheus exporter.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Testbed, type VxlanTunnel } from '../../src/testbed/testbed.ts';
import { type CliProcess, startCli } from '../lib/cli.ts';
import {
  buildCollector,
  COLLECTOR_CONFIG,
  Collector,
  type FlowLogRecord,
  parseExposition,
  readFlowRecords,
  sumSamples,
  writeFlowLogsOverlay,
  writeStandaloneOverlay,
} from '../lib/collector.ts';
import { extractQueries, loadDashboard } from '../lib/dashboard-queries.ts';
import { IN_CI, IS_ROOT, REPO_ROOT, requireRoot, requireTool } from '../lib/env.ts';
import { pollUntil } from '../lib/poll.ts';
import { curlFetcher, Prometheus, writeTestPrometheusConfig } from '../lib/prometheus.ts';
import { fillerSender, Softflowd } from '../lib/softflowd.ts';

const SKIP = !IS_ROOT && !IN_CI ? 'needs root (XDP, namespaces) and builds the collector; runs in CI' : false;
/** Echo requests per tunnel and phase; 56-byte payload: 84 IP bytes, 98-byte inner frames. */
const PINGS = 25;
const IP_BYTES = 84;
const FRAME_BYTES = 98;
const SINK_PORT = 4319;

const packetsOf = (records: FlowLogRecord[]) => records.reduce((a, r) => a + r.packets, 0);

describe('a real collector: OTLP from xdp-decap, IPFIX from softflowd tapping after XDP, Prometheus exporter', { skip: SKIP }, () => {
  let bed: Testbed;
  let dir: string;
  let tunnels: VxlanTunnel[];
  let sink: ChildProcess | undefined;
  let collector: Collector | undefined;
  let softflowd: Softflowd | undefined;
  let run: CliProcess | undefined;
  let sendFiller: () => void;
  let logsFile: string;
  let binary: string;
  let prometheus: Prometheus | undefined;

  before(async () => {
    if (!IS_ROOT) return;
    const build = buildCollector();
    binary = build.binary;
    console.log(`# collector: ${build.binary} (${build.seconds.toFixed(1)} s, cached when fast)`);
    bed = Testbed.create('otel');
    dir = mkdtempSync(join(tmpdir(), 'xdp-decap-otel-'));
    tunnels = [bed.addVxlan(100), bed.addVxlan(200)];
    logsFile = join(dir, 'flow-logs.jsonl');
    sink = spawn(
      'ip',
      [
        'netns',
        'exec',
        bed.cap,
        process.execPath,
        join(REPO_ROOT, 'src', 'demo', 'otlp-sink.ts'),
        String(SINK_PORT),
        join(dir, 'unused-metrics.jsonl'),
        logsFile,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      sink!.stdout!.once('data', () => resolve());
      sink!.once('exit', (code) => reject(new Error(`OTLP sink exited ${code}`)));
    });
    const overlay = writeFlowLogsOverlay(dir, `http://127.0.0.1:${SINK_PORT}`);
    // Standalone xdp-decap here (test/live/receiver.test.ts covers the receiver): the receiver stays configured but unused.
    collector = await Collector.start({
      binary: build.binary,
      ns: bed.cap,
      configs: [COLLECTOR_CONFIG, overlay, writeStandaloneOverlay(dir)],
      env: { XDP_DECAP_INTERFACE: bed.capIf },
    });
    softflowd = await Softflowd.start({ ns: bed.cap, ifname: bed.capIf, collector: '127.0.0.1:2055', dir });
    sendFiller = fillerSender(bed, dir);
  });

  after(async () => {
    if (run && run.child.exitCode === null) {
      run.child.kill('SIGTERM');
      await run.exited;
    }
    await prometheus?.stop();
    softflowd?.stop();
    collector?.stop();
    sink?.kill('SIGKILL');
    bed?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the README's collector snippet and examples/otelcol/config.yaml are valid configs for this collector", (t) => {
    if (!requireRoot(t, 'the collector test')) return;
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('## Enable it in your collector');
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    const snippets = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    assert.ok(snippets.length >= 2, 'the README section has its yaml snippets: the receiver first, then NetFlow beside it');
    assert.match(snippets[0]!, /^receivers:\n {2}xdp_decap:/, 'the first snippet enables the xdp_decap receiver');
    // The snippets say "or whatever your pipeline already exports to": give them the prometheus exporter.
    const files = snippets.map((snippet, i) => {
      const file = join(dir, `readme-snippet-${i}.yaml`);
      writeFileSync(file, `${snippet}exporters:\n  prometheus:\n    endpoint: 127.0.0.1:9999\n`);
      return file;
    });
    for (const config of [...files, COLLECTOR_CONFIG]) {
      const r = spawnSync(binary, ['validate', '--config', config], { encoding: 'utf8', env: { ...process.env, XDP_DECAP_INTERFACE: 'ens1f0' } });
      assert.equal(r.status, 0, `${config}: ${r.stderr}`);
    }
  });

  test('without xdp-decap, the NetFlow exporter reports only the tunnel: UDP to 4789 between the VTEPs', async (t) => {
    if (!requireRoot(t, 'the collector test') || !requireTool(t, 'softflowd') || !requireTool(t, 'tcpreplay') || !requireTool(t, 'curl')) return;
    for (const tunnel of tunnels) bed.ping(tunnel, PINGS);
    await softflowd!.exportAll(PINGS * tunnels.length, sendFiller);
    // What the mirror source sent; the capture host's own replies (ICMP port unreachable for 4789) aside.
    const fromSource = (all: FlowLogRecord[]) => all.filter((r) => r.src === bed.srcIp);
    const records = await pollUntil('the outer flows at the collector', () => {
      const r = fromSource(readFlowRecords(logsFile));
      return packetsOf(r) >= PINGS * tunnels.length ? r : undefined;
    });
    assert.equal(packetsOf(records), PINGS * tunnels.length, `every packet is in exactly one record: ${JSON.stringify(records)}`);
    for (const r of records) {
      assert.deepEqual([r.transport, r.src, r.dst, r.dport], ['udp', bed.srcIp, bed.capIp, 4789], `only tunnel flows: ${JSON.stringify(r)}`);
    }
    assert.ok(
      !readFlowRecords(logsFile).some((r) => r.src.startsWith('192.168.') || r.dst.startsWith('192.168.')),
      'no inner address is visible without decap',
    );
  });

  test('with xdp-decap, it reports the inner client flows, and the Prometheus exporter shows both streams side by side', async (t) => {
    if (!requireRoot(t, 'the collector test') || !requireTool(t, 'softflowd') || !requireTool(t, 'curl')) return;
    const config = join(dir, 'xdp-decap.yaml');
    writeFileSync(
      config,
      JSON.stringify({ interfaces: [{ name: bed.capIf }], metrics: { endpoint: 'http://127.0.0.1:4318/v1/metrics', exportIntervalSeconds: 1 } }),
    );
    run = startCli(['run', '--config', config], { ns: bed.cap });
    await run.waitFor(/attached in generic mode/);

    const before = readFlowRecords(logsFile).length;
    const processedBefore = softflowd!.stats().processed;
    for (const tunnel of tunnels) bed.ping(tunnel, PINGS);
    await softflowd!.exportAll(processedBefore + PINGS * tunnels.length, sendFiller);
    const records = await pollUntil('the inner flows at the collector', () => {
      const r = readFlowRecords(logsFile).slice(before);
      return packetsOf(r) >= PINGS * tunnels.length ? r : undefined;
    });
    for (const tunnel of tunnels) {
      const inner = records.filter((r) => r.src === tunnel.innerSrc && r.dst === tunnel.innerDst);
      assert.equal(inner.length, 1, `one record for VNI ${tunnel.vni}'s client flow: ${JSON.stringify(records)}`);
      assert.equal(inner[0]!.transport, 'icmp');
      assert.equal(inner[0]!.packets, PINGS);
      assert.equal(inner[0]!.bytes, PINGS * IP_BYTES, 'NetFlow counts IP (L3) bytes');
    }
    assert.ok(!records.some((r) => r.dport === 4789), `no tunnel flow once decapsulated: ${JSON.stringify(records)}`);

    // Both streams at the collector's Prometheus endpoint: the decap counters and the NetFlow sums.
    // The NetFlow sums must equal what the records say, per transport, over both phases.
    const all = readFlowRecords(logsFile);
    const recordSum = (transport: string, field: 'packets' | 'bytes') => all.filter((r) => r.transport === transport).reduce((a, r) => a + r[field], 0);
    let scraped = '';
    const fetchInCapture = curlFetcher(['ip', 'netns', 'exec', bed.cap]);
    const samples = await pollUntil(
      'both streams at the Prometheus exporter',
      async () => {
        scraped = await fetchInCapture('http://127.0.0.1:9464/metrics');
        const s = parseExposition(scraped);
        const decapDone = tunnels.every((tn) => sumSamples(s, 'decap_tunnel_packet_count_total', { decap_tunnel_id: String(tn.vni) }) === PINGS);
        return decapDone && sumSamples(s, 'netflow_packets_total', { network_transport: 'icmp' }) === recordSum('icmp', 'packets') ? s : undefined;
      },
      {
        lastState: () =>
          `records ${JSON.stringify(all)}; scrape:\n${scraped
            .split('\n')
            .filter((l) => /^(decap_tunnel_packets|netflow)/.test(l))
            .join('\n')}`,
      },
    );
    for (const tunnel of tunnels) {
      const where = { decap_tunnel_id: String(tunnel.vni), decap_tunnel_type: 'vxlan', network_interface_name: bed.capIf, job: 'xdp-decap' };
      assert.equal(sumSamples(samples, 'decap_tunnel_io_bytes_total', where), PINGS * FRAME_BYTES, 'decap counts inner frame (L2) bytes');
    }
    for (const transport of ['udp', 'icmp']) {
      assert.equal(
        sumSamples(samples, 'netflow_packets_total', { network_transport: transport }),
        recordSum(transport, 'packets'),
        `netflow_packets_total{${transport}}`,
      );
      assert.equal(
        sumSamples(samples, 'netflow_bytes_total', { network_transport: transport }),
        recordSum(transport, 'bytes'),
        `netflow_bytes_total{${transport}}`,
      );
    }
    // Reconciled: decap L3 bytes (frame bytes minus 14 per packet) equal the bytes NetFlow reports for the inner flows.
    const decapL3 = sumSamples(samples, 'decap_tunnel_io_bytes_total') - 14 * sumSamples(samples, 'decap_tunnel_packet_count_total');
    assert.equal(
      decapL3,
      records.filter((r) => r.src.startsWith('192.168.')).reduce((a, r) => a + r.bytes, 0),
    );
    assert.ok(
      sumSamples(samples, 'decap_skipped_packet_count_total', { decap_skip_reason: 'not_tunnel' }) > 0,
      'the filler frames are counted as skipped, not decapsulated',
    );
  });

  test('a real Prometheus scrapes the collector with examples/prometheus/prometheus.yml, and every query of the Grafana dashboard returns data', async (t) => {
    if (!requireRoot(t, 'the collector test') || !requireTool(t, 'prometheus') || !requireTool(t, 'curl')) return;
    assert.ok(run && run.child.exitCode === null, 'runs after the previous test, with xdp-decap attached');
    // The example file with a 1 s scrape interval, nothing else changed.
    prometheus = Prometheus.start({
      dir,
      config: writeTestPrometheusConfig(dir, { scrapeInterval: '1s' }),
      port: 9090,
      prefix: ['ip', 'netns', 'exec', bed.cap],
    });
    await prometheus.waitReady();
    await prometheus.waitForSeries('decap_tunnel_packet_count_total', 30000);
    // A few scrapes of history first: increase() extrapolates each series from its first to its last sample in the
    // window, and with only two or three samples a step near either end distorts the ratio below.
    await prometheus.waitForSeries('count_over_time(decap_tunnel_packet_count_total[5m]) >= 5', 30000);
    // Fresh traffic while Prometheus watches, so rates and increases over the window are not zero.
    const processed = softflowd!.stats().processed;
    for (const tunnel of tunnels) bed.ping(tunnel, PINGS);
    const recordsBefore = readFlowRecords(logsFile).length;
    await softflowd!.exportAll(processed + PINGS * tunnels.length, sendFiller);
    // Prometheus must have scraped the complete totals, not a part of the NetFlow records (they reach the collector
    // in several IPFIX messages): wait for the records, then for Prometheus's latest samples to equal them.
    await pollUntil('the fresh inner flows at the collector', () => {
      const fresh = readFlowRecords(logsFile)
        .slice(recordsBefore)
        .filter((r) => r.src.startsWith('192.168.'));
      return packetsOf(fresh) >= PINGS * tunnels.length ? fresh : undefined;
    });
    const icmpBytes = readFlowRecords(logsFile)
      .filter((r) => r.transport === 'icmp')
      .reduce((a, r) => a + r.bytes, 0);
    await prometheus.waitForSeries(`sum(netflow_bytes_total{network_transport="icmp"}) == ${icmpBytes}`, 30000);
    await prometheus.waitForSeries(`count(decap_tunnel_packet_count_total{decap_tunnel_id!=""} == ${2 * PINGS}) >= ${tunnels.length}`, 30000);
    // ... and stay so for a few scrapes, so both steps lie inside every window with samples after them.
    await prometheus.waitForSeries(`count_over_time((sum(netflow_bytes_total{network_transport="icmp"}) == ${icmpBytes})[1m:1s]) >= 4`, 30000);
    // Every tunnel's series, not just one of them, must show the fresh traffic in the window (else a ratio of two zero rates is NaN).
    await prometheus.waitForSeries(
      `increase(netflow_bytes_total[1m]) > 0 and on() count(increase(decap_tunnel_io_bytes_total{decap_tunnel_id!=""}[1m]) > 0) >= ${tunnels.length}`,
      30000,
    );

    const queries = extractQueries(loadDashboard(), { rateInterval: '1m', interval: '1s', range: '5m' });
    assert.ok(queries.length >= 15, `the dashboard has its queries: ${queries.length}`);
    const empty: string[] = [];
    for (const q of queries) {
      const series = await prometheus.query(q.expr);
      const values = series.map((x) => Number(x.value?.[1]));
      if (values.length === 0 || values.some((v) => Number.isNaN(v))) empty.push(`${q.where}: ${q.expr} -> ${JSON.stringify(series).slice(0, 300)}`);
    }
    assert.deepEqual(empty, [], 'every dashboard query returns at least one series and no NaN');
    // The comparison panel's ratio: NetFlow bytes over decap L3 bytes for what was just sent is 1 (plus untouched traffic, e.g. ICMP errors).
    const ratio = await prometheus.query(
      'sum(increase(netflow_bytes_total{network_transport="icmp"}[5m])) / (sum(increase(decap_tunnel_io_bytes_total[5m])) - 14 * sum(increase(decap_tunnel_packet_count_total[5m])))',
    );
    const r = Number(ratio[0]?.value?.[1]);
    assert.ok(r > 0.9 && r < 1.3, `NetFlow / decap L3 bytes over the window: ${r}`);
  });
});
