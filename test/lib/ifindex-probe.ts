// Runs frames through the program as if received on interface IFINDEX (via the test-run context), inside the
// caller's namespace, and prints the counters: `node ifindex-probe.ts IFINDEX`.
import { DecapProgram } from '../../src/program/decap-program.ts';
import { innerFrame, vxlanFrame } from '../../src/testbed/packets.ts';

const ifindex = Number(process.argv[2]);
const program = DecapProgram.load();
/** `struct xdp_md` for the test run: data 0, data_end = length, ingress_ifindex. */
const ctx = (length: number, index: number) => {
  const c = Buffer.alloc(24);
  c.writeUInt32LE(length, 4);
  c.writeUInt32LE(index, 12);
  return c;
};
const tunnel = vxlanFrame({
  outerSrc: '10.0.0.1',
  outerDst: '10.0.0.2',
  vni: 5,
  inner: innerFrame({ src: '192.168.0.1', dst: '192.168.0.2', protocol: 'udp' }),
}).frame;
const plain = Buffer.alloc(60);
for (let i = 0; i < 3; i++) program.program.testRun(tunnel, { ctxIn: ctx(tunnel.length, ifindex) });
program.program.testRun(plain, { ctxIn: ctx(plain.length, ifindex) });
program.program.testRun(plain); // the default: loopback, ifindex 1
console.log(JSON.stringify(program.readCounters()));
program.close();
