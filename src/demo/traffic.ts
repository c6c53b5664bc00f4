// Inner client traffic for the demo, run inside the mirror-source namespace: UDP datagrams and TCP connection
// attempts to each tunnel's far-side address for a while, then exits (closing every socket, so nothing trails).
// Usage: node traffic.js '{"targets":["192.168.1.2"],"durationMs":3000,"udpPerSecond":50}'
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';

interface TrafficPlan {
  targets: string[];
  durationMs: number;
  udpPerSecond: number;
}

const plan = JSON.parse(process.argv[2] ?? '{}') as TrafficPlan;
const udp = createSocket('udp4');
const tcp: Socket[] = [];
const payload = Buffer.alloc(200, 0x61);
const started = Date.now();
let tick = 0;

const timer = setInterval(() => {
  tick++;
  for (const host of plan.targets) {
    udp.send(payload, 53, host); // a "DNS" client
    if (tick % 2 === 0) udp.send(payload.subarray(0, 120), 5001, host); // a "telemetry" stream
    if (tick % 10 === 0) {
      // A TCP client trying a web server: SYNs that nobody answers, dropped after 100 ms.
      const s = connect({ host, port: 443 });
      s.on('error', () => undefined);
      setTimeout(() => s.destroy(), 100);
      tcp.push(s);
    }
  }
  if (Date.now() - started >= plan.durationMs) {
    clearInterval(timer);
    for (const s of tcp) s.destroy();
    udp.close(() => process.exit(0));
  }
}, 1000 / Math.max(1, plan.udpPerSecond));
