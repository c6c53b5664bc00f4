// Child of bench/kernel-cost.ts: BPF_PROG_TEST_RUN of an already loaded program (by id) on the CPU it is pinned to.
import { BpfProgram } from '../src/ffi/bpf-object.ts';
import { check } from '../src/ffi/errors.ts';
import { libbpf } from '../src/ffi/libbpf.ts';

const [progId, frameHex, repeat] = process.argv.slice(2);
const fd = check(libbpf().bpf_prog_get_fd_by_id(Number(progId)), 'open program id', String(progId));
const r = new BpfProgram(`prog ${progId}`, fd).testRun(Buffer.from(frameHex!, 'hex'), { repeat: Number(repeat) });
libbpf().close(fd);
console.log(JSON.stringify({ ns: r.durationNs, retval: r.retval }));
