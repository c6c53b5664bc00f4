// The frame builders tests, benchmarks and the demo use, in one import: each is written in the file named for
// what it builds (headers-l2-l4, headers-udp-tunnels, headers-gre-erspan, inner-frame, encapsulate, tunnel-frames).
export { encapsulate, nest, type OuterOptions, type TunnelFrame, type TunnelSpec } from './encapsulate.ts';
export { GRE_PROTOCOL } from './headers-gre-erspan.ts';
export { ETHERTYPE, ethernet, IPPROTO, type Ipv6Extension, internetChecksum, ipv4, ipv6, ipv6Fragment, tcp, udp, type VlanTag } from './headers-l2-l4.ts';
export { GPE_NEXT, vxlan } from './headers-udp-tunnels.ts';
export { innerFrame } from './inner-frame.ts';
export { erspanFrame, geneveFrame, gpeFrame, greFrame, vxlanFrame } from './tunnel-frames.ts';
