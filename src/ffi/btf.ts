// The running kernel's own type information (vmlinux BTF) through libbpf: does this kernel have a given function.

import { describeErrno } from './errors.ts';
import { lastErrno, libbpf } from './libbpf.ts';

/** `BTF_KIND_FUNC` in linux/btf.h. */
const BTF_KIND_FUNC = 12;

/** Whether the kernel's BTF holds a function, or why that cannot be known. */
export type KernelFunctionProbe = { known: true; present: boolean } | { known: false; reason: string };

/**
 * Looks `name` up as a function in the running kernel's BTF (/sys/kernel/btf/vmlinux), the same lookup libbpf
 * makes for a program's `__ksym` externs: a kfunc absent here makes an object that calls it fail to load.
 */
export function probeKernelFunction(name: string): KernelFunctionProbe {
  const lib = libbpf();
  const btf = lib.btf__load_vmlinux_btf();
  if (!btf) return { known: false, reason: `the kernel's BTF could not be read: ${describeErrno(lastErrno() || 2)}` };
  try {
    return { known: true, present: lib.btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) > 0 };
  } finally {
    lib.btf__free(btf);
  }
}
