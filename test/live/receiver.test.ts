// The xdp_decap Collector receiver, live: the real Collector with examples/otelcol/config.yaml runs the real daemon in the testbed's capture namespace.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError, type ConfigIssue, parseConfig, runIssues } from '../../src/config/load.ts';
import { PcapWriter } from '../../src/replay/pcap.ts';
import { geneveFrame, innerFrame } from '../../src/testbed/packets.ts';
import { inNs, Testbed, type VxlanTunnel } from '../../src/testbed/testbed.ts';
import { startCli } from '../lib/cli.ts';
import { buildCollector, COLLECTOR_CONFIG, Collector, parseExposition, sumSamples, writeStandaloneOverlay } from '../lib/collector.ts';
import { IN_CI, IS_ROOT, REPO_ROOT, requireRoot, requireTool } from '../lib/env.ts';
import { pollUntil } from '../lib/poll.ts';
import { curlFetcher } from '../lib/prometheus.ts';

const SKIP = !IS_ROOT && !IN_CI ? 'needs root (XDP, namespaces) and builds the collector; runs in CI' : false;
/** Pings per VXLAN tunnel (VNI 100, 200, 300); 56-byte payload: 98-byte inner frames. */
const PINGS = [10, 20, 30];
const FRAME_BYTES = 98;
const GENEVE_VNI = 7000;
const GENEVE_FRAMES = 9;

const pidsOf = (text: string) => [...text.matchAll(/xdp-decap daemon started\s.*"daemon_pid": (\d+)/g)].map((m) => Number(m[1]));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
/** The daemon's own verdict on a daemon config (what `xdp-decap validate` prints): its problems. */
const daemonSays = (input: unknown): readonly ConfigIssue[] => {
  try {
    return runIssues(parseConfig(input, 'test'));
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
};
/** A Go stack frame of the receiver under a log line (the Collector adds one to error lines unless told not to). */
const RECEIVER_STACK_FRAME = /^\t\S*xdpdecapreceiver\S*\.go:\d+$/m;

describe('the xdp_decap receiver in a real collector (examples/otelcol/config.yaml), the real daemon under it', { skip: SKIP }, () => {
  let bed: Testbed;
  let dir: string;
  let tmp: string;
  let binary: string;
  let collector: Collector | undefined;
  let tunnels: VxlanTunnel[];
  let scrape: () => Promise<string>;
  /** RSS (kB) of the collector and of its daemon, measured after the traffic of the first tests. */
  let hostedRss: { collector: number; daemon: number } | undefined;
  const env = () => ({ XDP_DECAP_INTERFACE: bed.capIf, XDP_DECAP_COLLECTION_INTERVAL: '1s', TMPDIR: tmp });

  before(async () => {
    if (!IS_ROOT) return;
    const build = buildCollector();
    binary = build.binary;
    console.log(`# collector: ${binary} (${build.seconds.toFixed(1)} s, cached when fast)`);
    bed = Testbed.create('rcv');
    dir = mkdtempSync(join(tmpdir(), 'xdp-decap-rcv-'));
    tmp = join(dir, 'collector-tmp');
    mkdirSync(tmp, { mode: 0o700 });
    tunnels = [bed.addVxlan(100), bed.addVxlan(200), bed.addVxlan(300)];
    const fetchInCapture = curlFetcher(['ip', 'netns', 'exec', bed.cap]);
    scrape = () => fetchInCapture('http://127.0.0.1:9464/metrics');
  });

  after(async () => {
    await collector?.terminate(5000);
    bed?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const sendGeneve = () => {
    const file = join(dir, 'geneve.pcap');
    const w = PcapWriter.open(file, { linkType: 1, precision: 'micro' });
    const inner = innerFrame({ src: '172.16.9.1', dst: '172.16.9.2', protocol: 'udp', payloadSize: 100 });
    const gf = geneveFrame({
      outerSrc: bed.srcIp,
      outerDst: bed.capIp,
      dstMac: bed.macOf(bed.cap, bed.capIf),
      vni: GENEVE_VNI,
      inner,
      options: Buffer.alloc(8, 1),
    });
    for (let i = 0; i < GENEVE_FRAMES; i++) w.write({ tsSec: i, tsFrac: 0, caplen: gf.frame.length, origLen: gf.frame.length, data: gf.frame });
    w.close();
    const r = spawnSync('ip', ['netns', 'exec', bed.src, 'tcpreplay', '-q', '--topspeed', '-i', bed.srcIf, file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return inner.length;
  };

  test("`otelcol validate` refuses what the daemon refuses, with its words and the receiver's key, before anything is attached", (t) => {
    if (!requireRoot(t, 'the receiver test')) return;
    /** Each case: an overlay (or environment) for examples/otelcol/config.yaml, and the same value as a daemon config. */
    const cases: { what: string; overlay?: string; env?: NodeJS.ProcessEnv; daemon: unknown; key: string; written?: string; hint?: string }[] = [
      {
        what: 'a collection interval of 1000h',
        env: { XDP_DECAP_COLLECTION_INTERVAL: '1000h' },
        daemon: { metrics: { exportIntervalSeconds: 3600000 } },
        key: 'collection_interval',
        written: '1000h (3600000 seconds): ',
      },
      { what: 'a fractional port (not truncated to 4789)', overlay: 'vxlan_ports: [4789.9]', daemon: { vxlanPorts: [4789.9] }, key: 'vxlan_ports[0]' },
      {
        what: '2^53 + 1 VNI series',
        overlay: 'metrics: { max_vni_series: 9007199254740993 }',
        // JavaScript reads 9007199254740993 as 2^53; any whole number past the limit gets the same message.
        daemon: { metrics: { maxVniSeries: 2 ** 53 } },
        key: 'metrics.max_vni_series',
      },
      { what: 'no interfaces', overlay: 'interfaces: []', daemon: { interfaces: [] }, key: 'interfaces' },
      {
        what: 'a mode',
        overlay: 'interfaces: [{ name: cap0, mode: turbo }]',
        daemon: { interfaces: [{ name: 'cap0', mode: 'turbo' }] },
        key: 'interfaces[0].mode',
      },
      {
        what: 'the example without its interface',
        env: { XDP_DECAP_INTERFACE: '' },
        daemon: { interfaces: [{ name: null }] },
        key: 'interfaces[0].name',
        hint: '; the value is empty (if it comes from ${env:NAME}, that variable is unset or empty)',
      },
    ];
    for (const c of cases) {
      const daemon = { interfaces: [{ name: 'cap0' }], ...(c.daemon as object) };
      const messages = [...new Set(daemonSays(daemon).map((i) => i.message))];
      assert.equal(messages.length, 1, `${c.what}: the daemon finds one problem: ${messages}`);
      const configs = ['--config', COLLECTOR_CONFIG];
      if (c.overlay) {
        const file = join(dir, 'bad.yaml');
        writeFileSync(file, `receivers:\n  xdp_decap:\n    ${c.overlay}\n`);
        configs.push('--config', file);
      }
      const r = spawnSync(binary, ['validate', ...configs], { encoding: 'utf8', env: { ...process.env, ...env(), ...c.env } });
      assert.notEqual(r.status, 0, c.what);
      assert.equal(r.stderr.split('\n')[0], `Error: receivers::xdp_decap: ${c.key}: ${c.written ?? ''}${messages[0]}${c.hint ?? ''}`, c.what);
    }
    assert.doesNotMatch(inNs(bed.cap, 'ip', ['-d', 'link', 'show', bed.capIf]), /xdp/, 'nothing attached');
    const ok = spawnSync(binary, ['validate', '--config', COLLECTOR_CONFIG], { encoding: 'utf8', env: { ...process.env, ...env() } });
    assert.equal(ok.status, 0, ok.stderr);
  });

  test('the collector attaches xdp-decap; per-VNI counts at the Prometheus exporter equal what was sent (VXLAN and Geneve)', async (t) => {
    if (!requireRoot(t, 'the receiver test') || !requireTool(t, 'tcpreplay') || !requireTool(t, 'curl')) return;
    collector = await Collector.start({ binary, ns: bed.cap, configs: [COLLECTOR_CONFIG], env: env() });
    await pollUntil('the daemon to attach', () => (/attached in generic mode/.test(collector!.output()) ? true : undefined), {
      lastState: () => collector!.output().slice(-3000),
    });
    assert.match(inNs(bed.cap, 'ip', ['-d', 'link', 'show', bed.capIf]), /xdpgeneric/);
    const log = collector.output();
    assert.match(
      log,
      /attached in generic mode.*"interface": "cap0".*"source": "xdp-decap"/,
      'daemon log lines reach the collector log with structured fields',
    );

    for (const [i, tn] of tunnels.entries()) bed.ping(tn, PINGS[i]!);
    const geneveBytes = sendGeneve();
    let text = '';
    const samples = await pollUntil(
      'the per-VNI counts at the Prometheus exporter',
      async () => {
        text = await scrape();
        const s = parseExposition(text);
        const done =
          tunnels.every((tn, i) => sumSamples(s, 'decap_tunnel_packet_count_total', { decap_tunnel_id: String(tn.vni) }) === PINGS[i]) &&
          sumSamples(s, 'decap_tunnel_packet_count_total', { decap_tunnel_id: String(GENEVE_VNI) }) === GENEVE_FRAMES;
        return done ? s : undefined;
      },
      {
        lastState: () =>
          text
            .split('\n')
            .filter((l) => l.startsWith('decap_tunnel_packets'))
            .join('\n'),
      },
    );
    tunnels.forEach((tn, i) => {
      const where = { decap_tunnel_id: String(tn.vni), decap_tunnel_type: 'vxlan', network_interface_name: bed.capIf };
      assert.equal(sumSamples(samples, 'decap_tunnel_packet_count_total', where), PINGS[i]);
      assert.equal(sumSamples(samples, 'decap_tunnel_io_bytes_total', where), PINGS[i]! * FRAME_BYTES);
    });
    const geneve = { decap_tunnel_id: String(GENEVE_VNI), decap_tunnel_type: 'geneve', network_interface_name: bed.capIf };
    assert.equal(sumSamples(samples, 'decap_tunnel_io_bytes_total', geneve), GENEVE_FRAMES * geneveBytes);
    assert.equal(
      sumSamples(samples, 'decap_tunnel_packet_count_total'),
      PINGS.reduce((a, b) => a + b, 0) + GENEVE_FRAMES,
      'nothing else counted as decapsulated',
    );
  });

  test('packet on the wire to its count at the Prometheus exporter (collection_interval 1s): within two intervals, measured', async (t) => {
    if (!requireRoot(t, 'the receiver test') || !requireTool(t, 'curl')) return;
    assert.ok(collector, 'runs after the previous test');
    const vni = String(tunnels[0]!.vni);
    const latencies: number[] = [];
    for (let i = 0; i < 8; i++) {
      // A random phase against the export timer, so the samples cover the whole interval.
      await new Promise((r) => setTimeout(r, Math.random() * 1000));
      const before = sumSamples(parseExposition(await scrape()), 'decap_tunnel_packet_count_total', { decap_tunnel_id: vni });
      const sent = Date.now();
      bed.ping(tunnels[0]!, 1);
      await pollUntil(
        'the ping counted',
        async () =>
          sumSamples(parseExposition(await scrape()), 'decap_tunnel_packet_count_total', { decap_tunnel_id: vni }) === before + 1 ? true : undefined,
        { intervalMs: 20, timeoutMs: 10000 },
      );
      latencies.push(Date.now() - sent);
    }
    latencies.sort((a, b) => a - b);
    console.log(
      `# wire-to-exporter latency, collection_interval 1s, 8 pings at random phases: min ${latencies[0]} ms, median ${latencies[4]} ms, max ${latencies[7]} ms`,
    );
    assert.ok(latencies[7]! < 3000, `every ping counted within two collection intervals: ${latencies}`);
  });

  test('kill -9 of the daemon: restarted, the restart logged, its counters reset cleanly (new start time, no double count)', async (t) => {
    if (!requireRoot(t, 'the receiver test')) return;
    assert.ok(collector, 'runs after the previous tests');
    const [first] = pidsOf(collector.output());
    assert.ok(first && alive(first), `the daemon's pid is logged: ${first}`);
    hostedRss = { collector: rssKb(collector.pid!), daemon: rssKb(first) };
    process.kill(first, 'SIGKILL');
    const second = await pollUntil('a new daemon', () => pidsOf(collector!.output()).find((p) => p !== first && alive(p)), {
      lastState: () => collector!.output().slice(-3000),
    });
    assert.match(collector.output(), /xdp-decap daemon exited; restarting.*"exit": "killed by killed"/);
    await pollUntil('the new daemon to attach', () => ((collector!.output().match(/attached in generic mode/g) ?? []).length >= 2 ? true : undefined));
    assert.notEqual(second, first);
    const vni = String(tunnels[1]!.vni);
    bed.ping(tunnels[1]!, 7);
    let text = '';
    await pollUntil(
      'VNI 200 counted from zero by the new daemon',
      async () => {
        text = await scrape();
        return sumSamples(parseExposition(text), 'decap_tunnel_packet_count_total', { decap_tunnel_id: vni }) === 7 ? true : undefined;
      },
      {
        lastState: () =>
          text
            .split('\n')
            .filter((l) => l.startsWith('decap_tunnel_packets'))
            .join('\n'),
      },
    );
  });

  test('collector SIGTERM: the daemon detaches and exits, nothing attached, no process, no temp file left', async (t) => {
    if (!requireRoot(t, 'the receiver test')) return;
    assert.ok(collector, 'runs after the previous tests');
    const pids = pidsOf(collector.output());
    assert.ok(
      readdirSync(tmp).some((f) => f.startsWith('xdp-decap-receiver-')),
      'the private directory exists while it runs',
    );
    const code = await collector.terminate();
    const log = collector.output();
    collector = undefined;
    assert.equal(code, 0, log.slice(-3000));
    assert.match(log, /SIGTERM: detaching and sending a last export/);
    for (const pid of pids) assert.ok(!alive(pid), `daemon ${pid} gone`);
    assert.doesNotMatch(inNs(bed.cap, 'ip', ['-d', 'link', 'show', bed.capIf]), /xdp/, 'nothing attached');
    assert.deepEqual(readdirSync(tmp), [], 'no temp file or directory left');
    assert.ok(!existsSync(join(tmp, 'config.json')));
  });

  test('memory: the collector hosting the daemon against the two separate processes of a standalone run (measured, same traffic)', async (t) => {
    if (!requireRoot(t, 'the receiver test') || !requireTool(t, 'curl')) return;
    assert.ok(hostedRss && !collector, 'runs after the receiver tests');
    collector = await Collector.start({ binary, ns: bed.cap, configs: [COLLECTOR_CONFIG, writeStandaloneOverlay(dir)], env: env() });
    const config = join(dir, 'standalone.json');
    writeFileSync(
      config,
      JSON.stringify({ interfaces: [{ name: bed.capIf }], metrics: { endpoint: 'http://127.0.0.1:4318/v1/metrics', exportIntervalSeconds: 1 } }),
    );
    const run = startCli(['run', '--config', config], { ns: bed.cap });
    try {
      await run.waitFor(/attached in generic mode/);
      for (const [i, tn] of tunnels.entries()) bed.ping(tn, PINGS[i]!);
      sendGeneve();
      await pollUntil('the standalone counts at the exporter', async () => {
        const s = parseExposition(await scrape());
        return tunnels.every((tn, i) => sumSamples(s, 'decap_tunnel_packet_count_total', { decap_tunnel_id: String(tn.vni), job: 'xdp-decap' }) >= PINGS[i]!)
          ? true
          : undefined;
      });
      await new Promise((r) => setTimeout(r, 2000)); // a few more exports, as the hosted figures had
      const separate = { collector: rssKb(collector.pid!), daemon: rssKb(run.child.pid!) };
      const mb = (kb: number) => (kb / 1024).toFixed(0);
      const hostedTotal = hostedRss!.collector + hostedRss!.daemon;
      const separateTotal = separate.collector + separate.daemon;
      console.log(
        `# RSS hosted (collector+receiver ${mb(hostedRss!.collector)} MB + daemon ${mb(hostedRss!.daemon)} MB = ${mb(hostedTotal)} MB) / separate (collector ${mb(separate.collector)} MB + xdp-decap run ${mb(separate.daemon)} MB = ${mb(separateTotal)} MB) = ${(hostedTotal / separateTotal).toFixed(2)}`,
      );
      assert.ok(hostedTotal > 0 && separateTotal > 0);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
      await collector.terminate();
      collector = undefined;
    }
  });

  test('an interface refused (another XDP program attached) is reported clearly; the collector and its other pipelines keep running', async (t) => {
    if (!requireRoot(t, 'the receiver test') || !requireTool(t, 'curl')) return;
    assert.ok(!collector, 'runs after the previous tests');
    inNs(bed.cap, 'ip', ['link', 'set', 'dev', bed.capIf, 'xdpgeneric', 'obj', join(REPO_ROOT, 'build', 'pass.bpf.o'), 'sec', 'xdp.frags']);
    try {
      collector = await Collector.start({ binary, ns: bed.cap, configs: [COLLECTOR_CONFIG], env: env() });
      await pollUntil('the refusal in the collector log', () => (/another XDP program is attached/.test(collector!.output()) ? true : undefined), {
        lastState: () => collector!.output().slice(-3000),
      });
      assert.match(
        collector.output(),
        /error\s.*another XDP program is attached: id \d+ "xdp_pass" \(generic mode\); not taking over.*"interface": "cap0"/,
        'an error line naming the interface and the other program',
      );
      assert.doesNotMatch(collector.output(), RECEIVER_STACK_FRAME, 'the error line carries no Go stack trace');
      assert.match(inNs(bed.cap, 'ip', ['-d', 'link', 'show', bed.capIf]), /name xdp_pass/, 'the other program is untouched');
      // Still serving: the Prometheus exporter answers, NetFlow's pipeline is up, the daemon was not restarted in a loop.
      await new Promise((r) => setTimeout(r, 2500));
      assert.ok(collector.pid && alive(collector.pid), 'the collector runs on');
      assert.match(await scrape(), /^# HELP|^$/m);
      assert.equal(pidsOf(collector.output()).length, 1, 'one daemon, running, not restarted');
      assert.equal(await collector.terminate(), 0);
      collector = undefined;
    } finally {
      spawnSync('ip', ['netns', 'exec', bed.cap, 'ip', 'link', 'set', 'dev', bed.capIf, 'xdpgeneric', 'off']);
    }
  });

  test('missing capabilities: one clear line, a permanent error, no restart loop; the collector runs on', async (t) => {
    if (!requireRoot(t, 'the receiver test') || !requireTool(t, 'setpriv') || !requireTool(t, 'curl')) return;
    assert.ok(!collector, 'runs after the previous tests');
    // The collector (and so its daemon) without CAP_BPF, CAP_SYS_ADMIN, CAP_PERFMON and CAP_NET_ADMIN.
    const wrap = ['setpriv', '--bounding-set=-bpf,-sys_admin,-perfmon,-net_admin', '--inh-caps=-all', '--'];
    collector = await Collector.start({ binary, ns: bed.cap, configs: [COLLECTOR_CONFIG], env: env(), wrap });
    await pollUntil('the daemon to give up', () => (/not restarting/.test(collector!.output()) ? true : undefined), {
      lastState: () => collector!.output().slice(-3000),
    });
    assert.match(
      collector.output(),
      /error\s.*xdp-decap run: loading the decap program: EPERM \(operation not permitted\): this process has none of CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON, and loading an XDP program needs all three: run it as root \(sudo\) or grant them/,
    );
    assert.match(collector.output(), /error\s.*xdp-decap daemon cannot run with this config or on this host; not restarting/);
    assert.doesNotMatch(collector.output(), RECEIVER_STACK_FRAME, 'the error lines keep their level and carry no Go stack trace');
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(pidsOf(collector.output()).length, 1, 'started once, not restarted in a loop');
    assert.ok(collector.pid && alive(collector.pid), 'the collector runs on');
    assert.match(await scrape(), /^# HELP|^$/m, 'its other pipelines still serve');
    assert.doesNotMatch(inNs(bed.cap, 'ip', ['-d', 'link', 'show', bed.capIf]), /xdp/, 'nothing attached');
    assert.equal(await collector.terminate(), 0);
    collector = undefined;
  });
});
