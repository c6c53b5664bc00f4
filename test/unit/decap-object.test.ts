// Which decap build is loaded and why, the kernel floor, and what a user is told when no build loads (no root needed).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reportError } from '../../src/cli.ts';
import { BpfLoadError } from '../../src/ffi/bpf-object.ts';
import { missingLoadCapabilities, permissionHint } from '../../src/ffi/capabilities.ts';
import { BpfError } from '../../src/ffi/errors.ts';
import { loadFailureReason, verifierStats } from '../../src/ffi/verifier-log.ts';
import { checkKernelRelease, DecapLoadError, KernelTooOldError, loadFirstThatLoads, planDecapBuilds } from '../../src/program/decap-builds.ts';

const FILES = { decap: '/x/build/decap.bpf.o', compat: '/x/build/decap-compat.bpf.o' };

// The tails of real logs: the builds before the kernel matrix, loaded on Debian 13's 6.12 and Debian 12's 6.1.
const LOG_6_12 = `1597: (b7) r3 = 3                     ; R3=3
1598: (2d) if r1 > r8 goto pc+11      ; R1=pkt(id=904,off=8,r=0,smin=0,smax=umax=0x8000000003ffb,var_off=(0x0; 0xfffffffffffff)) R8=pkt_end()
; *key = bpf_ntohl(*field); @ parsing.h:401
1599: (61) r1 = *(u32 *)(r7 +0)
invalid access to packet, off=4 size=4, R7(id=904,off=4,r=0)
R7 offset is outside of the packet
verification time 822945 usec
stack depth 48+0+0+0
processed 14402 insns (limit 1000000) max_states_per_insn 10 total_states 979 peak_states 586 mark_read 45
`;
const LOG_6_1 = `func#3 @1612
751: for (int depth = 1; depth <= DECAP_MAX_DEPTH; depth++) {
752: if (depth > 1 && !may_be_tunnel(ctx, lv.payload))
back-edge from insn 751 to 752
verification time 2289 usec
stack depth 0+0+0+0
processed 0 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
`;
const KFUNC_WARNINGS = [
  "libbpf: extern (func ksym) 'bpf_cast_to_kern_ctx': not found in kernel or module BTFs",
  "libbpf: failed to load object '/x/build/decap.bpf.o'",
];

test('the plan: decap.bpf.o first where the kernel has the kfunc, decap-compat.bpf.o alone where it lacks it', () => {
  const has = planDecapBuilds(FILES, { known: true, present: true });
  assert.deepEqual(has.candidates, [FILES.decap, FILES.compat]);
  assert.match(has.reason, /has bpf_cast_to_kern_ctx \(Linux 6\.2\+\)/);
  const lacks = planDecapBuilds(FILES, { known: true, present: false });
  assert.deepEqual(lacks.candidates, [FILES.compat]);
  assert.match(lacks.reason, /lacks bpf_cast_to_kern_ctx \(Linux before 6\.2\): the frame length by a helper call/);
  const unknown = planDecapBuilds(FILES, { known: false, reason: "the kernel's BTF could not be read: ENOENT" });
  assert.deepEqual(unknown.candidates, [FILES.decap, FILES.compat]);
  assert.match(unknown.reason, /BTF could not be read/);
  assert.deepEqual(planDecapBuilds({ ...FILES, override: '/o.bpf.o' }, { known: true, present: false }).candidates, ['/o.bpf.o']);
  assert.deepEqual(planDecapBuilds({ decap: FILES.decap }, { known: true, present: false }).candidates, [FILES.decap]);
});

test('the first build that loads is used; the ones before it are reported; a bug is never listed as a refusal', () => {
  const refused = (path: string) => new BpfLoadError(path, 13, LOG_6_12, []);
  const r = loadFirstThatLoads(['new', 'compat'], (p) => {
    if (p === 'new') throw refused(p);
    return `loaded ${p}`;
  });
  assert.equal(r.value, 'loaded compat');
  assert.equal(r.path, 'compat');
  assert.deepEqual(
    r.failed.map((f) => f.path),
    ['new'],
  );
  assert.throws(
    () =>
      loadFirstThatLoads(['new'], () => {
        throw new TypeError('a bug');
      }),
    TypeError,
  );
});

test("the lines that matter: the refused instruction, its source line and the verdict; libbpf's reason when the kernel never saw it", () => {
  assert.deepEqual(loadFailureReason(LOG_6_12, []), [
    '; *key = bpf_ntohl(*field); @ parsing.h:401',
    '1599: (61) r1 = *(u32 *)(r7 +0)',
    'invalid access to packet, off=4 size=4, R7(id=904,off=4,r=0)',
    'R7 offset is outside of the packet',
  ]);
  assert.deepEqual(loadFailureReason(LOG_6_1, []).slice(-1), ['back-edge from insn 751 to 752']);
  assert.deepEqual(loadFailureReason('', KFUNC_WARNINGS), ["extern (func ksym) 'bpf_cast_to_kern_ctx': not found in kernel or module BTFs"]);
  // libbpf repeats the kernel's log between markers: read once, from the log.
  const repeated = [
    "libbpf: prog 'xdp_decap': BPF program load failed: Permission denied",
    "libbpf: prog 'xdp_decap': -- BEGIN PROG LOAD LOG --",
    ...LOG_6_12.split('\n'),
    '-- END PROG LOAD LOG --',
  ];
  assert.deepEqual(loadFailureReason(LOG_6_12, repeated), loadFailureReason(LOG_6_12, []));
  assert.deepEqual(verifierStats(LOG_6_12), { processedInsns: 14402, totalStates: 979, peakStates: 586, verificationMicros: 822945 });
});

test('no build loads: each one tried, with the verifier\'s or libbpf\'s reason, exit 2, no stack; as root never "permission denied" alone', () => {
  const err = new DecapLoadError(
    [
      { path: FILES.decap, error: new BpfLoadError(FILES.decap, 2, '', KFUNC_WARNINGS) },
      { path: FILES.compat, error: new BpfLoadError(FILES.compat, 13, LOG_6_12, []) },
    ],
    '6.1.0-57-amd64',
  );
  assert.equal(err.permissionDenied, false);
  const lines = err.message.split('\n');
  assert.equal(lines[0], 'no build of the decap program loads on this kernel (Linux 6.1.0-57-amd64):');
  assert.match(err.message, /decap\.bpf\.o: ENOENT, libbpf said:\n +extern \(func ksym\) 'bpf_cast_to_kern_ctx': not found/);
  assert.match(err.message, /decap-compat\.bpf\.o: EACCES, the verifier said:\n(.*\n)* +R7 offset is outside of the packet$/);
  const printed = captureStderr(() => reportError('run', err));
  assert.equal(printed.code, 2);
  assert.doesNotMatch(printed.text, /permission denied|You are not root|at .*\.ts:\d+/);
  assert.match(printed.text, /^xdp-decap run: no build of the decap program loads/);
});

test('lack of privilege: one line, the capabilities named once, no object the user did not name', () => {
  const eperm = (p: string) => new BpfError('load BPF object', p, 1);
  const err = new DecapLoadError([
    { path: FILES.decap, error: eperm(FILES.decap) },
    { path: FILES.compat, error: eperm(FILES.compat) },
  ]);
  assert.equal(err.permissionDenied, true);
  assert.doesNotMatch(err.message, /bpf\.o/);
  const printed = captureStderr(() => reportError('replay', err));
  assert.equal(printed.code, 2);
  assert.equal(printed.text.trimEnd().split('\n').length, 1);
  for (const cap of ['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_PERFMON'])
    assert.ok((printed.text.match(new RegExp(cap, 'g'))?.length ?? 0) <= 1, `${cap} named once at most`);
  assert.equal(
    permissionHint(['CAP_NET_ADMIN']),
    'this process has CAP_BPF and CAP_PERFMON but not CAP_NET_ADMIN, and loading an XDP program needs all three: run it as root (sudo) or grant the missing one',
  );
  assert.match(permissionHint([]), /^this process has CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON, so the kernel itself refuses BPF here/);
  assert.deepEqual(missingLoadCapabilities('CapEff:\t000001c000001000\n'), [], 'bits 12, 38 and 39 set');
  assert.deepEqual(missingLoadCapabilities('CapEff:\t0000000000000000\n'), ['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_PERFMON']);
});

test('the kernel floor: 6.1 and newer pass, older ones get one line naming the kernel and the minimum', () => {
  for (const ok of ['6.1.0-57-amd64', '6.12.118+deb13-amd64', '6.18.44-fc-v1374', '7.0.0', 'unparseable']) assert.doesNotThrow(() => checkKernelRelease(ok));
  for (const old of ['5.10.0-28-amd64', '6.0.12', '4.19.0-26-amd64']) {
    assert.throws(
      () => checkKernelRelease(old),
      (e: unknown) => e instanceof KernelTooOldError && e.message.includes(`Linux ${old}`) && e.message.includes('Linux 6.1 or newer'),
    );
  }
  const printed = captureStderr(() => reportError('run', new KernelTooOldError('5.10.0-28-amd64')));
  assert.equal(printed.code, 2);
  assert.equal(printed.text.trimEnd().split('\n').length, 1);
});

function captureStderr(fn: () => number): { code: number; text: string } {
  const original = console.error;
  let text = '';
  console.error = (...args: unknown[]) => {
    text += `${args.join(' ')}\n`;
  };
  try {
    return { code: fn(), text };
  } finally {
    console.error = original;
  }
}
