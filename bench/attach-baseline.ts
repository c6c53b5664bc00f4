// Child of bench/datapath.ts, run inside the capture namespace: attaches a floor.bpf.o program (generic) until stdin closes.
import { BpfObject } from '../src/ffi/bpf-object.ts';
import { interfaceIndex, programIdOfFd, XdpLink } from '../src/ffi/xdp.ts';
import { bpfObjectPath } from '../src/program/decap-program.ts';

const [programName, ifname] = process.argv.slice(2) as [string, string];
const object = BpfObject.open(bpfObjectPath('floor'));
object.load();
const index = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
object.map('tunnel_ports').update(index(4789), index(1)); // TUNNEL_VXLAN, as the decap program's default
const program = object.program(programName);
const link = XdpLink.attach(program.fd, ifname, interfaceIndex(ifname), 'generic');
console.log(programIdOfFd(program.fd));
process.stdin.resume();
process.stdin.on('end', () => {
  link.close();
  object.close();
});
