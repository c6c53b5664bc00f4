// The installed packages attach for real: the demo and the Collector under its unit's settings, in a prepared clean root.
//
// test/package/deb.test.ts installs and upgrades the packages in a clean Debian 12 root on the host, then boots
// Debian 12's own kernel (6.1) under qemu (scripts/vm/boot.sh) and runs this file there as the guest's job:
//   node test/package/installed-live.ts ROOT_DIR
// It enters that root (its own /proc, /sys, bpffs, /dev and /run), runs both steps, prints one JSON line of
// timings and exits 0; a failed assertion exits 1 with its message. The guest's writes never reach the host.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { PcapWriter } from '../../src/replay/pcap.ts';
import { innerFrame, vxlanFrame } from '../../src/testbed/packets.ts';
import { parseExposition } from '../lib/collector.ts';
import { DebianRoot } from '../lib/debian-root.ts';
import { REPO_ROOT } from '../lib/env.ts';
import { pollUntil } from '../lib/poll.ts';
import { manifestCapabilities, processCapabilities, setprivArgv } from '../lib/privilege.ts';
import { curlFetcher } from '../lib/prometheus.ts';

/** What the Collector's unit gives it and, through exec, its daemon: plugin.json's capabilities, as ambient ones. */
const CAPABILITIES = manifestCapabilities();
/** The Collector run: its network namespace inside the root (under the root's own /run), VNI and frames sent. */
const OTEL_NS = 'xdpdeb-otel';
const OTEL_VNI = 4242;
const OTEL_FRAMES = 7;

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

/** An installed unit's `Key=value` settings (each key once in these units). */
export function unitSettings(root: DebianRoot, unit: string): Map<string, string> {
  const lines = readFileSync(root.path(`lib/systemd/system/${unit}`), 'utf8')
    .split('\n')
    .filter((l) => /^[A-Z]\w*=/.test(l));
  return new Map(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** `xdp-decap demo --duration 3` from the installed paths (the demo's tools installed after the package). */
export function installedDemo(root: DebianRoot, timings: string[]): void {
  const t0 = Date.now();
  const r = root.run('xdp-decap', ['demo', '--duration', '3', '--vnis', '2', '--json'], { timeoutMs: 400_000 });
  timings.push(`demo in the clean root ${seconds(t0)} s`);
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const s = JSON.parse(r.stdout);
  assert.equal(s.ok, true);
  assert.equal(s.countedFrom, 'otlp');
  assert.equal(root.ok('ip', ['netns', 'list']).trim(), '', 'the demo removed its namespaces');
}

/**
 * The installed Collector as its unit runs it (user, ambient capabilities, read-only system, private /tmp) in a
 * test namespace: the daemon from /usr/lib/xdp-decap attaches to the test veth, a per-VNI count reaches the
 * Prometheus exporter, SIGTERM stops both.
 */
export async function installedCollector(root: DebianRoot, timings: string[]): Promise<void> {
  const t0 = Date.now();
  let collector: ChildProcess | undefined;
  let log = '';
  try {
    // A namespace of the root's own (its /run is a tmpfs) with a veth pair: cap0 (the capture interface) <- src0.
    root.ok('ip', ['netns', 'add', OTEL_NS]);
    root.ok('ip', ['-n', OTEL_NS, 'link', 'add', 'cap0', 'type', 'veth', 'peer', 'name', 'src0']);
    for (const dev of ['lo', 'cap0', 'src0']) root.ok('ip', ['-n', OTEL_NS, 'link', 'set', dev, 'up']);
    const capMac = root.ok('ip', ['-n', OTEL_NS, '-br', 'link', 'show', 'cap0']).trim().split(/\s+/)[2]!;
    // The installed unit's settings applied by hand (no systemd in the root): its user, capabilities and
    // NoNewPrivileges through setpriv; ProtectSystem=strict, ProtectHome, PrivateTmp, UMask through the file-system
    // sandbox of test/lib/unit-sandbox.sh in a mount namespace of its own; its ExecStart as it is.
    const unit = unitSettings(root, 'otelcol-xdp-decap.service');
    assert.equal(unit.get('ProtectSystem'), 'strict');
    const [, , uid, gid] = root
      .ok('getent', ['passwd', unit.get('User')!])
      .trim()
      .split(':');
    copyFileSync(join(REPO_ROOT, 'test', 'lib', 'unit-sandbox.sh'), root.path('usr/local/lib/unit-sandbox.sh'));
    const words = (key: string) => unit.get(key)!.split(' ');
    const argv = [
      'nsenter',
      `--net=/run/netns/${OTEL_NS}`,
      'unshare',
      '--mount',
      '--propagation',
      'private',
      'sh',
      '/usr/local/lib/unit-sandbox.sh',
      unit.get('UMask')!,
      unit.get('PrivateTmp')!,
      unit.get('ProtectHome')!,
      '--',
      ...setprivArgv({
        user: { name: unit.get('User')!, uid: Number(uid), gid: Number(gid), home: '/nonexistent' },
        capabilities: words('AmbientCapabilities'),
        boundingSet: words('CapabilityBoundingSet'),
        noNewPrivileges: unit.get('NoNewPrivileges') === 'yes',
      }),
      ...words('ExecStart'),
    ];
    assert.deepEqual(argv.slice(-3), ['/usr/bin/otelcol-xdp-decap', '--config', '/etc/otelcol-xdp-decap/config.yaml']);
    collector = spawn('chroot', [root.dir, ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: '/',
      // The installed config as it is; the interface and a 1 s interval from the environment, as a drop-in would give them.
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', XDP_DECAP_INTERFACE: 'cap0', XDP_DECAP_COLLECTION_INTERVAL: '1s' },
    });
    collector.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    collector.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const exited = () => collector!.exitCode !== null || collector!.signalCode !== null;
    const daemonPid = await pollUntil(
      'the daemon to attach to cap0',
      () => {
        if (exited()) throw new Error(`the Collector exited ${collector!.exitCode ?? collector!.signalCode}:\n${log.slice(-3000)}`);
        const pid = /xdp-decap daemon started\s.*"daemon_pid": (\d+)/.exec(log)?.[1];
        return pid && /attached in generic mode/.test(log) ? Number(pid) : undefined;
      },
      { timeoutMs: 180_000, lastState: () => log.slice(-3000) },
    );
    timings.push(`installed Collector: daemon attached ${seconds(t0)} s`);
    // The daemon is the package's: its Node.js and cli.js under /usr/lib/xdp-decap, as xdp-decap, with exactly the unit's capabilities.
    assert.equal(readlinkSync(`/proc/${daemonPid}/exe`), root.path('usr/lib/xdp-decap/node/bin/node'));
    assert.deepEqual(readFileSync(`/proc/${daemonPid}/cmdline`, 'utf8').split('\0').slice(0, 3), [
      '/usr/lib/xdp-decap/node/bin/node',
      '/usr/lib/xdp-decap/dist/src/cli.js',
      'run',
    ]);
    const caps = processCapabilities(daemonPid);
    assert.equal(caps.uid, Number(uid), 'runs as xdp-decap');
    // ... and inside the unit's file-system sandbox: the system read-only, a private /tmp (where its config is).
    const mounts = readFileSync(`/proc/${daemonPid}/mountinfo`, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [pre, post] = l.split(' - ');
        const f = pre!.split(' ');
        return { point: f[4]!, options: f[5]!.split(','), type: post!.split(' ')[0]! };
      });
    const mountAt = (point: string) => mounts.filter((m) => m.point === point).at(-1);
    assert.ok(mountAt('/')?.options.includes('ro'), `/ read-only: ${JSON.stringify(mountAt('/'))}`);
    assert.equal(mountAt('/tmp')?.type, 'tmpfs', 'a private /tmp');
    const daemonArgs = readFileSync(`/proc/${daemonPid}/cmdline`, 'utf8').split('\0');
    assert.match(
      daemonArgs[daemonArgs.indexOf('--config') + 1]!,
      /^\/tmp\/xdp-decap-receiver-/,
      "the daemon's generated config in the receiver's private directory under the private /tmp",
    );
    assert.deepEqual(caps.effective, [...CAPABILITIES].sort(), "exactly the unit's capabilities, inherited through exec (ambient)");
    assert.match(root.ok('ip', ['-n', OTEL_NS, '-d', 'link', 'show', 'cap0']), /xdpgeneric/);
    assert.doesNotMatch(root.ok('ip', ['-n', OTEL_NS, '-d', 'link', 'show', 'src0']), /xdp/, 'only the capture veth');
    assert.match(
      log,
      /loaded \/usr\/lib\/xdp-decap\/build\/decap(-compat)?\.bpf\.o: this kernel (has|lacks) bpf_cast_to_kern_ctx/,
      'the daemon says which build it loaded and why',
    );

    // VXLAN frames into cap0 from its peer.
    const inner = innerFrame({ src: '192.168.42.1', dst: '192.168.42.2', protocol: 'udp', sport: 40042, payloadSize: 64 });
    const frame = vxlanFrame({ outerSrc: '10.0.42.1', outerDst: '10.0.42.2', dstMac: capMac, vni: OTEL_VNI, inner }).frame;
    const writer = PcapWriter.open(root.path('tmp/otel.pcap'), { linkType: 1, precision: 'micro' });
    for (let i = 0; i < OTEL_FRAMES; i++) writer.write({ tsSec: 1_700_000_000 + i, tsFrac: 0, data: frame });
    writer.close();
    root.ok('ip', ['netns', 'exec', OTEL_NS, 'tcpreplay', '-q', '--topspeed', '-i', 'src0', '/tmp/otel.pcap']);

    // At the Prometheus exporter of the installed config (127.0.0.1:9464 inside the namespace), scraped with the host's curl.
    const scrape = curlFetcher(['nsenter', `--net=${root.path(`run/netns/${OTEL_NS}`)}`]);
    let text = '';
    const vniSamples = await pollUntil(
      `VNI ${OTEL_VNI}'s packets at the Prometheus exporter`,
      async () => {
        text = await scrape('http://127.0.0.1:9464/metrics');
        // By label value, not metric name: the series is whatever plugin.json calls the per-VNI packet counter (the name changes, the VNI stays).
        const samples = parseExposition(text).filter((x) => Object.values(x.labels).includes(String(OTEL_VNI)) && /packet/.test(x.name));
        return samples.some((x) => x.value === OTEL_FRAMES) ? samples : undefined;
      },
      {
        timeoutMs: 60_000,
        lastState: () =>
          text
            .split('\n')
            .filter((l) => l.includes(String(OTEL_VNI)))
            .join('\n') || text.slice(0, 2000),
      },
    );
    assert.ok(vniSamples.length > 0);
    timings.push(`installed Collector: start to per-VNI metric ${seconds(t0)} s`);
  } finally {
    if (collector && collector.exitCode === null && collector.signalCode === null) {
      const gone = new Promise((resolve) => collector!.once('exit', resolve));
      collector.kill('SIGTERM');
      const timer = setTimeout(() => collector!.kill('SIGKILL'), 30000);
      await gone;
      clearTimeout(timer);
    }
    root.run('ip', ['netns', 'del', OTEL_NS]);
    rmSync(root.path('usr/local/lib/unit-sandbox.sh'), { force: true });
  }
  assert.equal(root.ok('ip', ['netns', 'list']).trim(), '', 'the namespace is gone');
  assert.match(log, /xdp-decap daemon exited/, 'the Collector stopped its daemon on SIGTERM');
}

/** The guest's job: both steps in the root at argv[2]; one JSON line of timings, or the failure. */
async function main(dir: string): Promise<number> {
  const root = DebianRoot.enter(dir);
  const timings: string[] = [`kernel ${release()}`];
  try {
    installedDemo(root, timings);
    await installedCollector(root, timings);
    console.log(JSON.stringify({ ok: true, timings }));
    return 0;
  } catch (err) {
    console.log(JSON.stringify({ ok: false, timings, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }));
    return 1;
  } finally {
    root.destroy();
  }
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  main(process.argv[2] ?? '').then((code) => process.exit(code));
}
