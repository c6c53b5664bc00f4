// `xdp-decap reconcile --nfdump PATH`: NetFlow totals side by side with xdp-decap's own flow counters, per VNI.

import { NetflowInputError, readNfcapdStore } from '../reconcile/nfdump.ts';
import { type DecapFlow, type ReconcileReport, reconcile } from '../reconcile/reconcile.ts';
import { formatTable } from '../replay/summary-table.ts';
import { listInterfaces, missingInterfaces, readProgramFlows, readXdpAttachments } from '../status/read-status.ts';
import { command, defineCommand } from './command.ts';
import { EXIT, UsageError } from './usage.ts';

/** Default tolerance, in percent: see the help text. */
const DEFAULT_TOLERANCE_PCT = 2;

const RECONCILE = defineCommand({
  name: 'reconcile',
  summary: "compare a NetFlow exporter's flows (nfcapd store) with the decap counters, per VNI",
  description: `Validates a NetFlow/IPFIX exporter that taps the capture interfaces after XDP against xdp-decap's own
counters. Reads the flows the exporter sent to nfcapd (PATH: an nfcapd file, or the directory nfcapd writes
to; decoded by nfdump) and the inner flow table of every xdp-decap program attached here, joins them on
the inner 5-tuple (protocol, addresses, and ports for TCP/UDP/SCTP) to attribute NetFlow records to VNIs,
and prints per VNI both sides' packets and bytes with their difference. Then the NetFlow flows that match no
decapsulated flow (traffic that was never tunnelled) and the decapsulated flows NetFlow never reported
(what the tap missed). Exit 0 when everything agrees within --tolerance, 1 when something differs.
Needs root: the kernel opens xdp-decap's flow table by id only for CAP_SYS_ADMIN.

How the columns are defined:
  decap pkts      packets xdp-decap decapsulated for the VNI's flows (its LRU flow table: since each flow
                  was first seen, minus flows evicted when the table is full)
  decap L3 bytes  inner frame bytes minus 14 per packet: xdp-decap counts frames (L2), NetFlow counts IP
                  bytes (L3). Inner VLAN tags (4 bytes each) are assumed absent.
  nf pkts/bytes   the in_packets/in_bytes of the NetFlow records joined to the VNI, as exported (sampled
                  records are counted as they are, not scaled; the report says how many were sampled)
  diff, %         NetFlow minus decap, relative to decap
Differences by design: flows still in the exporter's cache are not reported yet (expire them first, e.g.
softflowctl expire-all, or wait for its active/inactive timeouts); the store covers what its files cover,
the flow table what it still holds, so compare over a window both cover (start nfcapd with xdp-decap).
Default tolerance ${DEFAULT_TOLERANCE_PCT}%: with both sides complete the counts match exactly (the tests see 0%); a couple
of percent absorbs flows straddling the edges of the window without hiding a tap that loses packets.`,
  options: {
    nfdump: { type: 'string', value: 'PATH', required: true, help: 'an nfcapd file, or the directory nfcapd writes to (its -w)' },
    interface: { type: 'string', value: 'NAME', multiple: true, help: 'only the xdp-decap programs on NAME (default: every interface here)' },
    tolerance: {
      type: 'string',
      value: 'PCT',
      default: String(DEFAULT_TOLERANCE_PCT),
      help: 'the largest difference, in percent, that still agrees',
      check: (v) => (Number.isFinite(Number(v)) && Number(v) >= 0 ? undefined : 'give a percentage >= 0, e.g. --tolerance 2'),
    },
    top: { type: 'string', value: 'N', integer: { min: 1, max: 1_000_000 }, default: '20', help: 'list at most N unmatched flows of each kind' },
    json: { type: 'boolean', help: 'print the report as JSON' },
  },
  examples: [
    'softflowd -i ens1f0 -v 10 -n 127.0.0.1:9995 && nfcapd -w /var/cache/nfcapd -p 9995',
    'xdp-decap reconcile --nfdump /var/cache/nfcapd',
    'xdp-decap reconcile --nfdump /var/cache/nfcapd/nfcapd.202611231200 --interface ens1f0 --json',
  ],
});

function fmtPct(p: number | null): string {
  return p === null ? '-' : `${p >= 0 ? '+' : ''}${p.toFixed(2)}%`;
}

function flowText(f: { protocol: number; srcAddr: string; dstAddr: string; srcPort: number; dstPort: number }): string {
  const port = (a: string, p: number) => (a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);
  return [6, 17, 132].includes(f.protocol)
    ? `proto ${f.protocol} ${port(f.srcAddr, f.srcPort)} > ${port(f.dstAddr, f.dstPort)}`
    : `proto ${f.protocol} ${f.srcAddr} > ${f.dstAddr}`;
}

export function formatReconcile(report: ReconcileReport, top: number): string {
  const lines: string[] = [];
  lines.push(
    report.vnis.length === 0
      ? 'no decapsulated flows in the flow table'
      : formatTable(
          ['interface', 'type', 'vni', 'decap pkts', 'nf pkts', 'pkt diff', 'decap L3 bytes', 'nf bytes', 'byte diff', 'ok'],
          report.vnis.map((r) => [
            r.interfaceName,
            r.tunnelType,
            r.vni,
            r.decapPackets,
            r.netflowPackets,
            fmtPct(r.packetDiffPct),
            r.decapL3Bytes,
            r.netflowBytes,
            fmtPct(r.byteDiffPct),
            r.outsideTolerance ? `NO (> ${report.tolerancePct}%)` : 'yes',
          ]),
        ),
  );
  const list = (
    title: string,
    flows: Array<{ protocol: number; srcAddr: string; dstAddr: string; srcPort: number; dstPort: number; packets: number; bytes: number; vni?: number }>,
  ) => {
    if (flows.length === 0) return;
    lines.push('', `${title}: ${flows.length} (${flows.reduce((a, f) => a + f.packets, 0)} packets)`);
    lines.push(
      formatTable(
        ['flow', 'vni', 'packets', 'bytes'],
        flows.slice(0, top).map((f) => [flowText(f), f.vni ?? '-', f.packets, f.bytes]),
      ),
    );
    if (flows.length > top) lines.push(`  ... ${flows.length - top} more (--top, or --json for all)`);
  };
  list('NetFlow flows matching no decapsulated flow (never tunnelled here)', report.netflowOnly);
  list('decapsulated flows NetFlow never reported (missed by the tap, or not exported yet)', report.decapOnly);
  if (report.ambiguous.length > 0) lines.push('', `NetFlow flows whose 5-tuple is in several VNIs (not attributed): ${report.ambiguous.length}`);
  if (report.sampledRecords > 0) lines.push('', `${report.sampledRecords} NetFlow records were sampled: their counts are not scaled`);
  lines.push('', report.agrees ? `agrees within ${report.tolerancePct}%` : 'differences found');
  return lines.join('\n');
}

export const reconcileCommand = command(RECONCILE, async ({ values }) => {
  const tolerance = Number(values.tolerance);
  const top = values.top;

  let netflow: ReturnType<typeof readNfcapdStore>;
  try {
    netflow = readNfcapdStore(values.nfdump);
  } catch (err) {
    if (err instanceof NetflowInputError) throw new UsageError(err.message);
    throw err;
  }
  const missing = missingInterfaces(values.interface);
  if (missing.length > 0)
    throw new UsageError(`--interface ${missing.join(', ')}: no such interface in this network namespace (here: ${listInterfaces().join(', ') || 'none'})`);
  const names = values.interface.length > 0 ? values.interface : listInterfaces();
  const { interfaces, unreadable } = readXdpAttachments(names);
  // Without the privilege to open programs, "nothing attached" would be a wrong answer: say what is missing.
  if (unreadable) throw new UsageError(unreadable);
  const attached = interfaces.filter((i) => i.isDecap);
  if (attached.length === 0) {
    throw new UsageError(
      `no xdp-decap program is attached ${values.interface.length > 0 ? `on ${values.interface.join(', ')}` : 'on any interface of this network namespace'}; start it with xdp-decap run (see xdp-decap status)`,
    );
  }
  const nameOf = new Map(attached.map((i) => [i.ifindex, i.name]));
  const decap: DecapFlow[] = [];
  for (const progId of new Set(attached.map((i) => i.progId))) {
    for (const f of readProgramFlows(progId)) {
      const interfaceName = nameOf.get(f.ifindex);
      if (interfaceName !== undefined) decap.push({ ...f, interfaceName });
    }
  }
  const report = reconcile(decap, netflow, tolerance);
  console.log(values.json ? JSON.stringify(report, null, 2) : formatReconcile(report, top));
  return report.agrees ? EXIT.ok : EXIT.findings;
});
