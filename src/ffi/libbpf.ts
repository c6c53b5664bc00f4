// libbpf (Debian's libbpf1) through koffi: the lazy loader and the one table of C signatures we call.
import koffi from 'koffi';
import { loadNativeLibrary } from './native-library.ts';

/** Library names tried in order; XDP_DECAP_LIBBPF overrides them with one path. */
const LIBBPF_CANDIDATES = ['libbpf.so.1', '/usr/lib/x86_64-linux-gnu/libbpf.so.1', '/usr/lib/aarch64-linux-gnu/libbpf.so.1', 'libbpf.so'];

/** `struct bpf_object_open_opts` of libbpf 1.1 (fields up to kernel_log_level). */
const BpfObjectOpenOpts = koffi.struct('bpf_object_open_opts', {
  sz: 'size_t',
  object_name: 'const char *',
  relaxed_maps: 'bool',
  pin_root_path: 'const char *',
  attach_prog_fd_removed: 'uint32_t',
  kconfig: 'const char *',
  btf_custom_path: 'const char *',
  kernel_log_buf: 'void *',
  kernel_log_size: 'size_t',
  kernel_log_level: 'uint32_t',
});

/** `struct bpf_test_run_opts` (libbpf >= 1.0). */
const BpfTestRunOpts = koffi.struct('bpf_test_run_opts', {
  sz: 'size_t',
  data_in: 'void *',
  data_out: 'void *',
  data_size_in: 'uint32_t',
  data_size_out: 'uint32_t',
  ctx_in: 'void *',
  ctx_out: 'void *',
  ctx_size_in: 'uint32_t',
  ctx_size_out: 'uint32_t',
  retval: 'uint32_t',
  repeat: 'int',
  duration: 'uint32_t',
  flags: 'uint32_t',
  cpu: 'uint32_t',
  batch_size: 'uint32_t',
});

/** `struct bpf_map_batch_opts`. */
const BpfMapBatchOpts = koffi.struct('bpf_map_batch_opts', {
  sz: 'size_t',
  elem_flags: 'uint64_t',
  flags: 'uint64_t',
});

/** `struct bpf_link_create_opts`, up to the union (we only set flags). */
const BpfLinkCreateOpts = koffi.struct('bpf_link_create_opts', {
  sz: 'size_t',
  flags: 'uint32_t',
  iter_info: 'void *',
  iter_info_len: 'uint32_t',
  target_btf_id: 'uint32_t',
  union_pad: koffi.array('uint64_t', 4),
});

/** `struct bpf_xdp_query_opts` of libbpf 1.1. */
const BpfXdpQueryOpts = koffi.struct('bpf_xdp_query_opts', {
  sz: 'size_t',
  prog_id: 'uint32_t',
  drv_prog_id: 'uint32_t',
  hw_prog_id: 'uint32_t',
  skb_prog_id: 'uint32_t',
  attach_mode: 'uint8_t',
});

export interface TestRunOpts {
  sz: number;
  data_in: Buffer | null;
  data_out: Buffer | null;
  data_size_in: number;
  data_size_out: number;
  ctx_in: Buffer | null;
  ctx_out: Buffer | null;
  ctx_size_in: number;
  ctx_size_out: number;
  retval: number;
  repeat: number;
  duration: number;
  flags: number;
  cpu: number;
  batch_size: number;
}

interface XdpQueryOpts {
  sz: number;
  prog_id: number;
  drv_prog_id: number;
  hw_prog_id: number;
  skb_prog_id: number;
  attach_mode: number;
}

/** Opaque libbpf pointers (koffi 3 represents pointers as bigint; NULL as null). */
export type Pointer = bigint;

/** The libbpf functions this project calls, typed. Negative returns are -errno (libbpf 1.x). */
export interface LibbpfFunctions {
  libbpf_version_string(): string;
  libbpf_num_possible_cpus(): number;
  libbpf_set_print(fn: Pointer | null): Pointer | null;
  bpf_object__open_file(path: string, opts: object | null): Pointer | null;
  bpf_object__load(obj: Pointer): number;
  bpf_object__close(obj: Pointer): void;
  bpf_object__find_map_by_name(obj: Pointer, name: string): Pointer | null;
  bpf_object__find_program_by_name(obj: Pointer, name: string): Pointer | null;
  bpf_map__set_max_entries(map: Pointer, max: number): number;
  bpf_map__max_entries(map: Pointer): number;
  bpf_map__fd(map: Pointer): number;
  bpf_map__key_size(map: Pointer): number;
  bpf_map__value_size(map: Pointer): number;
  bpf_map__type(map: Pointer): number;
  bpf_program__fd(prog: Pointer): number;
  bpf_map_lookup_elem(fd: number, key: Buffer, value: Buffer): number;
  bpf_map_update_elem(fd: number, key: Buffer, value: Buffer, flags: bigint | number): number;
  bpf_map_delete_elem(fd: number, key: Buffer): number;
  bpf_map_get_next_key(fd: number, key: Buffer | null, nextKey: Buffer): number;
  bpf_map_lookup_batch(fd: number, inBatch: Buffer | null, outBatch: Buffer, keys: Buffer, values: Buffer, count: number[], opts: object | null): number;
  bpf_map_delete_batch(fd: number, keys: Buffer, count: number[], opts: object | null): number;
  bpf_prog_test_run_opts(progFd: number, opts: TestRunOpts): number;
  bpf_link_create(progFd: number, targetFd: number, attachType: number, opts: object | null): number;
  bpf_link_detach(linkFd: number): number;
  bpf_obj_pin(fd: number, path: string): number;
  bpf_obj_get(path: string): number;
  bpf_xdp_query(ifindex: number, flags: number, opts: XdpQueryOpts): number;
  bpf_xdp_detach(ifindex: number, flags: number, opts: null): number;
  bpf_prog_get_fd_by_id(id: number): number;
  bpf_link_get_fd_by_id(id: number): number;
  bpf_obj_get_info_by_fd(fd: number, info: Buffer, infoLen: number[]): number;
  bpf_link_get_next_id(startId: number, nextId: number[]): number;
  bpf_map_get_fd_by_id(id: number): number;
  btf__load_vmlinux_btf(): Pointer | null;
  btf__find_by_name_kind(btf: Pointer, name: string, kind: number): number;
  btf__free(btf: Pointer): void;
  close(fd: number): number;
  if_nametoindex(name: string): number;
  linkat(olddirfd: number, oldpath: string, newdirfd: number, newpath: string, flags: number): number;
  vsnprintf(buf: Buffer, size: number, format: string, args: Pointer): number;
}

const SIGNATURES: Record<keyof LibbpfFunctions, string> = {
  libbpf_version_string: 'const char *libbpf_version_string(void)',
  libbpf_num_possible_cpus: 'int libbpf_num_possible_cpus(void)',
  libbpf_set_print: 'void *libbpf_set_print(void *fn)',
  bpf_object__open_file: 'void *bpf_object__open_file(const char *path, const bpf_object_open_opts *opts)',
  bpf_object__load: 'int bpf_object__load(void *obj)',
  bpf_object__close: 'void bpf_object__close(void *obj)',
  bpf_object__find_map_by_name: 'void *bpf_object__find_map_by_name(void *obj, const char *name)',
  bpf_object__find_program_by_name: 'void *bpf_object__find_program_by_name(void *obj, const char *name)',
  bpf_map__set_max_entries: 'int bpf_map__set_max_entries(void *map, uint32_t max_entries)',
  bpf_map__max_entries: 'uint32_t bpf_map__max_entries(void *map)',
  bpf_map__fd: 'int bpf_map__fd(void *map)',
  bpf_map__key_size: 'uint32_t bpf_map__key_size(void *map)',
  bpf_map__value_size: 'uint32_t bpf_map__value_size(void *map)',
  bpf_map__type: 'int bpf_map__type(void *map)',
  bpf_program__fd: 'int bpf_program__fd(void *prog)',
  bpf_map_lookup_elem: 'int bpf_map_lookup_elem(int fd, const void *key, void *value)',
  bpf_map_update_elem: 'int bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags)',
  bpf_map_delete_elem: 'int bpf_map_delete_elem(int fd, const void *key)',
  bpf_map_get_next_key: 'int bpf_map_get_next_key(int fd, const void *key, void *next_key)',
  bpf_map_lookup_batch:
    'int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, _Inout_ uint32_t *count, const bpf_map_batch_opts *opts)',
  bpf_map_delete_batch: 'int bpf_map_delete_batch(int fd, const void *keys, _Inout_ uint32_t *count, const bpf_map_batch_opts *opts)',
  bpf_prog_test_run_opts: 'int bpf_prog_test_run_opts(int prog_fd, _Inout_ bpf_test_run_opts *opts)',
  bpf_link_create: 'int bpf_link_create(int prog_fd, int target_fd, int attach_type, const bpf_link_create_opts *opts)',
  bpf_link_detach: 'int bpf_link_detach(int link_fd)',
  bpf_obj_pin: 'int bpf_obj_pin(int fd, const char *pathname)',
  bpf_obj_get: 'int bpf_obj_get(const char *pathname)',
  bpf_xdp_query: 'int bpf_xdp_query(int ifindex, int flags, _Inout_ bpf_xdp_query_opts *opts)',
  bpf_xdp_detach: 'int bpf_xdp_detach(int ifindex, uint32_t flags, const void *opts)',
  bpf_prog_get_fd_by_id: 'int bpf_prog_get_fd_by_id(uint32_t id)',
  bpf_link_get_fd_by_id: 'int bpf_link_get_fd_by_id(uint32_t id)',
  bpf_obj_get_info_by_fd: 'int bpf_obj_get_info_by_fd(int bpf_fd, void *info, _Inout_ uint32_t *info_len)',
  bpf_link_get_next_id: 'int bpf_link_get_next_id(uint32_t start_id, _Out_ uint32_t *next_id)',
  bpf_map_get_fd_by_id: 'int bpf_map_get_fd_by_id(uint32_t id)',
  btf__load_vmlinux_btf: 'void *btf__load_vmlinux_btf(void)',
  btf__find_by_name_kind: 'int btf__find_by_name_kind(const void *btf, const char *type_name, uint32_t kind)',
  btf__free: 'void btf__free(void *btf)',
  close: 'int close(int fd)',
  if_nametoindex: 'unsigned int if_nametoindex(const char *ifname)',
  // Node's fs.linkSync is link(2), which cannot name an O_TMPFILE file through /proc/self/fd (src/replay/unnamed-file.ts).
  linkat: 'int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)',
  // va_list arrives as a pointer on x86-64 (an array type) and on arm64 (a 32-byte struct, passed by reference).
  vsnprintf: 'int vsnprintf(void *buf, size_t size, const char *format, void *args)',
};

/** Functions that live in libc rather than libbpf. */
const LIBC_FUNCTIONS = new Set(['close', 'if_nametoindex', 'linkat', 'vsnprintf']);

let loaded: LibbpfFunctions | undefined;

/** Loads libbpf once; the error lists every path tried and how to install it. */
export function libbpf(): LibbpfFunctions {
  if (loaded) return loaded;
  loaded = loadNativeLibrary<LibbpfFunctions>({
    name: 'libbpf',
    candidates: LIBBPF_CANDIDATES,
    envOverride: 'XDP_DECAP_LIBBPF',
    fix: 'apt-get install libbpf1 (or set XDP_DECAP_LIBBPF to the path of libbpf.so.1)',
    signatures: SIGNATURES,
    libcFunctions: LIBC_FUNCTIONS,
  });
  // libbpf prints to stderr by default; until someone asks for its messages (setLibbpfPrint,
  // collectLibbpfWarnings), they are dropped: errors reach callers as BpfError anyway.
  installPrint();
  return loaded;
}

/** libbpf's `enum libbpf_print_level`, in order. */
const PRINT_LEVELS = ['warn', 'info', 'debug'] as const;
export type LibbpfPrintLevel = (typeof PRINT_LEVELS)[number];

/** `libbpf_print_fn_t`: int (*)(enum libbpf_print_level level, const char *format, va_list args). */
const LibbpfPrintFn = koffi.proto('int libbpf_print_fn(int level, const char *format, void *args)');
let printCallback: Pointer | undefined;
let printTarget: ((level: LibbpfPrintLevel, line: string) => void) | undefined;
/** Warnings collected by collectLibbpfWarnings while it runs; undefined otherwise. */
let warningSink: string[] | undefined;

/** libbpf's print function: ours while anyone listens (a print target or a warning collection), else none. */
function installPrint(): void {
  if (!loaded) return;
  if (!printTarget && !warningSink) {
    loaded.libbpf_set_print(null);
    return;
  }
  if (!printCallback) {
    const buf = Buffer.alloc(2048);
    const callback = (level: number, format: string, args: Pointer): number => {
      if (!printTarget && !warningSink) return 0;
      const n = libbpf().vsnprintf(buf, buf.length, format, args);
      const text = buf.toString('utf8', 0, Math.max(0, Math.min(n, buf.length - 1))).trimEnd();
      const name = PRINT_LEVELS[level] ?? 'debug';
      if (text && name === 'warn') warningSink?.push(...text.split('\n'));
      if (text) printTarget?.(name, text);
      return n;
    };
    printCallback = koffi.register(callback, koffi.pointer(LibbpfPrintFn));
  }
  loaded.libbpf_set_print(printCallback);
}

/**
 * Sends libbpf's own diagnostics (one line each, formatted by libc's vsnprintf) to `print`; `undefined` drops
 * them again. Process-wide, as libbpf's print function is: the application (`xdp-decap run`) sets it.
 */
export function setLibbpfPrint(print: ((level: LibbpfPrintLevel, line: string) => void) | undefined): void {
  printTarget = print;
  if (print) libbpf();
  installPrint();
}

/**
 * Runs `fn` and returns its result with the warnings libbpf printed meanwhile (why an object failed to load
 * before the kernel saw it: a kfunc this kernel lacks, a relocation that failed). The print target, if any,
 * still gets every line.
 */
export function collectLibbpfWarnings<T>(fn: () => T): { result?: T; error?: unknown; warnings: string[] } {
  const warnings: string[] = [];
  const outer = warningSink;
  warningSink = warnings;
  libbpf();
  installPrint();
  try {
    return { result: fn(), warnings };
  } catch (error) {
    return { error, warnings };
  } finally {
    warningSink = outer;
    installPrint();
  }
}

/** Sizes of the option structs, for their `sz` field. */
export const OPTS_SIZE = {
  objectOpen: koffi.sizeof(BpfObjectOpenOpts),
  testRun: koffi.sizeof(BpfTestRunOpts),
  mapBatch: koffi.sizeof(BpfMapBatchOpts),
  linkCreate: koffi.sizeof(BpfLinkCreateOpts),
  xdpQuery: koffi.sizeof(BpfXdpQueryOpts),
} as const;

/** The current thread's errno, for calls that return NULL (libbpf sets errno on failure). */
export function lastErrno(): number {
  return koffi.errno();
}
