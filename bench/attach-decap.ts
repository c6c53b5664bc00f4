// Child of bench/real-path-ab.ts, run inside the capture namespace: attaches one build of the decap program (generic) until stdin closes.
import { interfaceIndex, programIdOfFd, XdpLink } from '../src/ffi/xdp.ts';
import { DEFAULT_CAPACITIES, DEFAULT_DATAPLANE, DecapProgram } from '../src/program/decap-program.ts';

const [objectPath, ifname, tracking] = process.argv.slice(2) as [string, string, 'track' | 'notrack'];
const program = DecapProgram.load({ ...DEFAULT_DATAPLANE, trackFlows: tracking === 'track' }, DEFAULT_CAPACITIES, objectPath);
const link = XdpLink.attach(program.program.fd, ifname, interfaceIndex(ifname), 'generic');
console.log(programIdOfFd(program.program.fd));
process.stdin.resume();
process.stdin.on('end', () => {
  link.close();
  program.close();
});
