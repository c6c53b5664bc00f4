// Leaves xdp-decap attached after exiting, as a crashed older version with a pinned link would:
// `node pin-decap-link.ts IFNAME PIN_PATH`, run inside the test namespace.
import { interfaceIndex, XdpLink } from '../../src/ffi/xdp.ts';
import { DecapProgram } from '../../src/program/decap-program.ts';

const [ifname, pinPath] = process.argv.slice(2);
if (!ifname || !pinPath) throw new Error('usage: pin-decap-link.ts IFNAME PIN_PATH');
const program = DecapProgram.load();
const link = XdpLink.attach(program.program.fd, ifname, interfaceIndex(ifname), 'generic');
link.pin(pinPath);
console.log(`pinned ${link.id}`);
