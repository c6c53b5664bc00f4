// Throwaway network namespaces for the demo and the tests: a mirror source and a capture host joined by a veth pair, real VXLAN tunnels.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeNamespace } from './namespaces.ts';

let counter = 0;

/** Runs a command; throws with its stderr when it fails. */
export function sh(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

export function inNs(ns: string, cmd: string, args: string[]): string {
  return sh('ip', ['netns', 'exec', ns, cmd, ...args]);
}

export interface VxlanTunnel {
  vni: number;
  device: string;
  /** Inner addresses: the source's and the (never answering) peer's on the capture side. */
  innerSrc: string;
  innerDst: string;
  innerDstMac: string;
}

/**
 * Two namespaces: `src` (the mirror source, 10.200.0.1) and `cap` (the capture host, 10.200.0.2), joined by
 * veth `src0`/`cap0`. IPv6 is off in both so no stray ND/RS frames cross the tunnel and counts stay exact.
 */
export class Testbed {
  readonly src: string;
  readonly cap: string;
  readonly srcIf = 'src0';
  readonly capIf = 'cap0';
  readonly srcIp = '10.200.0.1';
  readonly capIp = '10.200.0.2';
  readonly tunnels: VxlanTunnel[] = [];
  private janitor: ChildProcess | undefined;
  private scratch: string | undefined;

  private constructor(tag: string) {
    const id = `${process.pid}-${++counter}`;
    this.src = `xd-${tag}-src-${id}`;
    this.cap = `xd-${tag}-cap-${id}`;
  }

  /** Builds the testbed; on any failure removes what it made and rethrows. */
  static create(tag: string): Testbed {
    const bed = new Testbed(tag);
    bed.startJanitor();
    try {
      for (const ns of [bed.src, bed.cap]) {
        sh('ip', ['netns', 'add', ns]);
        inNs(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
        inNs(ns, 'ip', ['link', 'set', 'lo', 'up']);
      }
      bed.addLink();
      return bed;
    } catch (err) {
      bed.destroy();
      throw err;
    }
  }

  /** The veth pair with addresses and static neighbours (no ARP crosses it during a test). */
  private addLink(): void {
    sh('ip', ['link', 'add', this.srcIf, 'netns', this.src, 'type', 'veth', 'peer', 'name', this.capIf, 'netns', this.cap]);
    inNs(this.src, 'ip', ['addr', 'add', `${this.srcIp}/24`, 'dev', this.srcIf]);
    inNs(this.cap, 'ip', ['addr', 'add', `${this.capIp}/24`, 'dev', this.capIf]);
    inNs(this.src, 'ip', ['link', 'set', this.srcIf, 'up']);
    inNs(this.cap, 'ip', ['link', 'set', this.capIf, 'up']);
    const capMac = this.macOf(this.cap, this.capIf);
    const srcMac = this.macOf(this.src, this.srcIf);
    inNs(this.src, 'ip', ['neigh', 'replace', this.capIp, 'lladdr', capMac, 'dev', this.srcIf, 'nud', 'permanent']);
    inNs(this.cap, 'ip', ['neigh', 'replace', this.srcIp, 'lladdr', srcMac, 'dev', this.capIf, 'nud', 'permanent']);
  }

  /** Deletes the veth pair (the capture interface disappears, tunnels with it). */
  deleteLink(): void {
    inNs(this.cap, 'ip', ['link', 'del', this.capIf]);
    this.tunnels.length = 0;
  }

  /** Re-creates the veth pair under the same names (a new ifindex), as after a driver reload. */
  recreateLink(): void {
    this.addLink();
  }

  /** A real VXLAN device in `src` whose tunnel ends at the capture host (UDP `port`, default 4789). */
  addVxlan(vni: number, port = 4789, local = this.srcIp): VxlanTunnel {
    const n = this.tunnels.length + 1;
    if (local !== this.srcIp) {
      inNs(this.src, 'ip', ['addr', 'replace', `${local}/24`, 'dev', this.srcIf]);
      inNs(this.cap, 'ip', ['neigh', 'replace', local, 'lladdr', this.macOf(this.src, this.srcIf), 'dev', this.capIf, 'nud', 'permanent']);
    }
    const device = `vx${vni}`;
    const tunnel: VxlanTunnel = {
      vni,
      device,
      innerSrc: `192.168.${n}.1`,
      innerDst: `192.168.${n}.2`,
      innerDstMac: `02:00:00:00:${n.toString(16).padStart(2, '0')}:02`,
    };
    inNs(this.src, 'ip', [
      'link',
      'add',
      device,
      'type',
      'vxlan',
      'id',
      String(vni),
      'remote',
      this.capIp,
      'local',
      local,
      'dstport',
      String(port),
      'dev',
      this.srcIf,
      'nolearning',
    ]);
    inNs(this.src, 'ip', ['addr', 'add', `${tunnel.innerSrc}/24`, 'dev', device]);
    inNs(this.src, 'ip', ['link', 'set', device, 'up']);
    inNs(this.src, 'ip', ['neigh', 'replace', tunnel.innerDst, 'lladdr', tunnel.innerDstMac, 'dev', device, 'nud', 'permanent']);
    this.tunnels.push(tunnel);
    return tunnel;
  }

  /** A scratch directory that lives as long as the process (benchmarks write their pcaps there). */
  dirForBench(): string {
    this.scratch ??= mkdtempSync(join(tmpdir(), 'xdp-decap-testbed-'));
    return this.scratch;
  }

  /** MAC address of `ifname` in namespace `ns`. */
  macOf(ns: string, ifname: string): string {
    return inNs(ns, 'cat', [`/sys/class/net/${ifname}/address`]).trim();
  }

  /** tx packets/bytes of a device in `src`: the kernel's own count of what it sent (inner frames for a VXLAN device). */
  txCounters(device: string): { packets: number; bytes: number } {
    const read = (f: string) => Number(inNs(this.src, 'cat', [`/sys/class/net/${device}/statistics/${f}`]).trim());
    return { packets: read('tx_packets'), bytes: read('tx_bytes') };
  }

  /** Exactly `count` ICMP echo requests of `payload` bytes through `tunnel` (nobody answers). */
  ping(tunnel: VxlanTunnel, count: number, payload = 56): void {
    spawnSync('ip', ['netns', 'exec', this.src, 'ping', '-q', '-c', String(count), '-i', '0.002', '-s', String(payload), '-W', '0.01', tunnel.innerDst], {
      encoding: 'utf8',
    });
  }

  /** Kills what runs inside the namespaces and deletes them (their veth and tunnels go with them). */
  destroy(): void {
    for (const ns of [this.src, this.cap]) removeNamespace(ns);
    this.janitor?.kill();
    this.janitor = undefined;
    if (this.scratch) rmSync(this.scratch, { recursive: true, force: true });
  }

  /** A detached guardian that removes the namespaces if this process dies without destroy() (SIGKILL). */
  private startJanitor(): void {
    const script = fileURLToPath(new URL(`./janitor${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
    this.janitor = spawn(process.execPath, [script, String(process.pid), this.src, this.cap], { detached: true, stdio: 'ignore' });
    this.janitor.unref();
  }
}
