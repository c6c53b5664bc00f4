// `xdp-decap status [--interface NAME] [--json]`: what is attached where, and the counters of xdp-decap programs.

import { formatTable } from '../replay/summary-table.ts';
import { type DecapStatus, listInterfaces, missingInterfaces, readStatus } from '../status/read-status.ts';
import { command, defineCommand } from './command.ts';
import { EXIT, UsageError } from './usage.ts';

const STATUS = defineCommand({
  name: 'status',
  summary: 'show what is attached where and the per-VNI and skip counters',
  description: `Shows, for each interface of this network namespace, the XDP program attached (mode, id, name), and
for every xdp-decap program attached, its counters per VNI and per skip reason. Reads the kernel
directly: works whether or not \`xdp-decap run\` is running here. Needs root: the kernel opens a program
and its maps by id only for CAP_SYS_ADMIN (CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON, enough for \`run\`, show
what is attached where but not whose program it is); without it, status says so and exits 2.`,
  options: {
    interface: { type: 'string', value: 'NAME', multiple: true, help: 'only NAME (default: every interface here)' },
    json: { type: 'boolean', help: 'print the status as JSON' },
  },
  examples: ['xdp-decap status', "xdp-decap status --interface ens1f0 --json | jq '.vnis'"],
});

function formatStatus(status: DecapStatus, only?: readonly string[]): string {
  const names = new Map(status.interfaces.map((i) => [i.ifindex, i.name]));
  const attached = status.interfaces.filter((i) => i.progId !== 0);
  const lines: string[] = [];
  lines.push(
    attached.length === 0
      ? `no XDP program attached on ${only && only.length > 0 ? only.join(', ') : 'any interface here'}`
      : formatTable(
          ['interface', 'ifindex', 'mode', 'program id', 'program', 'xdp-decap'],
          attached.map((i) => [i.name, i.ifindex, i.mode, i.progId, i.progName ?? 'unknown', i.isDecap === null ? 'unknown' : i.isDecap ? 'yes' : 'no']),
        ),
  );
  for (const { progId, counters } of status.programs) {
    lines.push('', `program ${progId}: per VNI`);
    const vnis = [...counters.vnis].sort((a, b) => a.ifindex - b.ifindex || a.vni - b.vni);
    lines.push(
      vnis.length === 0
        ? '  (nothing decapsulated yet)'
        : formatTable(
            ['interface', 'type', 'vni', 'packets', 'inner bytes', 'overhead bytes', 'flows'],
            vnis.map((v) => [names.get(v.ifindex) ?? `ifindex ${v.ifindex}`, v.tunnelType, v.vni, v.packets, v.bytes, v.overheadBytes, v.flows]),
          ),
    );
    const skipped = counters.outcomes.filter((o) => o.outcome !== 'decapsulated' && o.packets > 0);
    if (skipped.length > 0) {
      lines.push('', `program ${progId}: passed untouched, by reason`);
      lines.push(
        formatTable(
          ['interface', 'reason', 'packets', 'bytes'],
          skipped.map((o) => [names.get(o.ifindex) ?? `ifindex ${o.ifindex}`, o.outcome, o.packets, o.bytes]),
        ),
      );
    }
    const lost = Object.entries(counters.lost).filter(([, n]) => n > 0);
    if (lost.length > 0) lines.push('', `program ${progId}: updates lost to full maps: ${lost.map(([m, n]) => `${m} ${n}`).join(', ')}`);
  }
  return lines.join('\n');
}

/** The `--json` shape: interfaces, then flattened per-VNI and per-reason rows with interface names. */
function statusJson(status: DecapStatus): object {
  const names = new Map(status.interfaces.map((i) => [i.ifindex, i.name]));
  return {
    interfaces: status.interfaces.map((i) => ({
      name: i.name,
      ifindex: i.ifindex,
      mode: i.mode,
      programId: i.progId,
      programName: i.progName,
      decap: i.isDecap,
    })),
    ...(status.unreadable ? { unreadable: status.unreadable } : {}),
    vnis: status.programs.flatMap((p) =>
      p.counters.vnis.map((v) => ({
        programId: p.progId,
        interface: names.get(v.ifindex) ?? null,
        ifindex: v.ifindex,
        type: v.tunnelType,
        vni: v.vni,
        packets: v.packets,
        bytes: v.bytes,
        overheadBytes: v.overheadBytes,
        flows: v.flows,
      })),
    ),
    skipped: status.programs.flatMap((p) =>
      p.counters.outcomes
        .filter((o) => o.outcome !== 'decapsulated')
        .map((o) => ({ programId: p.progId, interface: names.get(o.ifindex) ?? null, reason: o.outcome, packets: o.packets, bytes: o.bytes })),
    ),
    lostUpdates: status.programs.map((p) => ({ programId: p.progId, ...p.counters.lost })),
  };
}

export const statusCommand = command(STATUS, async ({ values }) => {
  const missing = missingInterfaces(values.interface);
  if (missing.length > 0) {
    throw new UsageError(
      `${missing.length === 1 ? 'interface' : 'interfaces'} ${missing.join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist in this network namespace (here: ${listInterfaces().join(', ') || 'none'})`,
    );
  }
  const status = readStatus(values.interface);
  console.log(values.json ? JSON.stringify(statusJson(status), null, 2) : formatStatus(status, values.interface));
  // What is known is printed; what could not be read is said on stderr, with exit 2, never shown as "no".
  if (status.unreadable) throw new UsageError(status.unreadable);
  return EXIT.ok;
});
