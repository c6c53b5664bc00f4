// BPF objects, maps and program test runs on top of the libbpf table; every failure is a BpfError with context.
import { BpfError, check } from './errors.ts';
import { collectLibbpfWarnings, lastErrno, libbpf, OPTS_SIZE, type Pointer, type TestRunOpts } from './libbpf.ts';
import { loadFailureReason, type VerifierStats, verifierStats } from './verifier-log.ts';

const BPF_ANY = 0;
/** Map types whose userspace values are one slot per possible CPU, each rounded up to 8 bytes. */
const PER_CPU_MAP_TYPES = new Set([5 /* PERCPU_HASH */, 6 /* PERCPU_ARRAY */, 10 /* LRU_PERCPU_HASH */]);
const VERIFIER_LOG_SIZE = 4 * 1024 * 1024;

let possibleCpus: number | undefined;

/** Number of possible CPUs: the slot count of a per-CPU map value. */
function numPossibleCpus(): number {
  possibleCpus ??= check(libbpf().libbpf_num_possible_cpus(), 'count possible CPUs', '');
  return possibleCpus;
}

/** Keys and values read from a map in one pass: `count` entries, packed back to back. */
export interface MapEntries {
  count: number;
  keys: Buffer;
  values: Buffer;
}

/** One map of a loaded object. Values of per-CPU maps are `valueStride * cpus` bytes. */
export class BpfMap {
  readonly name: string;
  readonly fd: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly type: number;
  readonly perCpu: boolean;
  /** Bytes of one CPU's slot (per-CPU maps pad each value to 8 bytes). */
  readonly valueStride: number;
  /** Bytes userspace reads or writes for one element. */
  readonly userValueSize: number;
  private batchUnsupported = false;
  private deleteBatchUnsupported = false;

  constructor(name: string, fd: number, keySize: number, valueSize: number, type: number) {
    this.name = name;
    this.fd = fd;
    this.keySize = keySize;
    this.valueSize = valueSize;
    this.type = type;
    this.perCpu = PER_CPU_MAP_TYPES.has(type);
    this.valueStride = this.perCpu ? Math.ceil(valueSize / 8) * 8 : valueSize;
    this.userValueSize = this.perCpu ? this.valueStride * numPossibleCpus() : valueSize;
  }

  /** CPU slots per value (1 for a shared map) and the bytes between them. */
  get perCpuLayout(): { stride: number; cpus: number } {
    return { stride: this.valueStride, cpus: this.userValueSize / this.valueStride };
  }

  /** The value for `key`, or null when there is none. */
  lookup(key: Buffer): Buffer | null {
    this.checkKey(key);
    const value = Buffer.alloc(this.userValueSize);
    const ret = libbpf().bpf_map_lookup_elem(this.fd, key, value);
    if (ret === -2 /* ENOENT */) return null;
    check(ret, 'look up in map', this.name);
    return value;
  }

  update(key: Buffer, value: Buffer, flags = BPF_ANY): void {
    this.checkKey(key);
    if (value.length !== this.userValueSize) {
      throw new RangeError(`map ${this.name}: value is ${value.length} bytes, expected ${this.userValueSize}`);
    }
    check(libbpf().bpf_map_update_elem(this.fd, key, value, flags), 'update map', this.name);
  }

  /** Deletes `key`; returns false when it was not there. */
  delete(key: Buffer): boolean {
    this.checkKey(key);
    const ret = libbpf().bpf_map_delete_elem(this.fd, key);
    if (ret === -2) return false;
    check(ret, 'delete from map', this.name);
    return true;
  }

  /** Every key, by get_next_key iteration. */
  keys(): Buffer[] {
    const out: Buffer[] = [];
    let prev: Buffer | null = null;
    for (;;) {
      const next = Buffer.alloc(this.keySize);
      const ret = libbpf().bpf_map_get_next_key(this.fd, prev, next);
      if (ret === -2) return out;
      check(ret, 'iterate map', this.name);
      out.push(next);
      prev = next;
    }
  }

  /** Deletes every element (iterating keys; arrays cannot be cleared this way). */
  clear(): void {
    for (const key of this.keys()) this.delete(key);
  }

  /**
   * Streams every entry to `visit` in chunks (keys and values packed, `count` of them), without holding the
   * whole map in memory: BPF_MAP_LOOKUP_BATCH where the kernel has it, else get_next_key + lookup.
   */
  forEachChunk(visit: (chunk: MapEntries) => void, chunk = 8192): void {
    if (!this.batchUnsupported) {
      try {
        this.batchedChunks(chunk, visit);
        return;
      } catch (err) {
        if (!(err instanceof BpfError) || (err.code !== 'EINVAL' && err.code !== 'ENOTSUP' && err.code !== 'EOPNOTSUPP')) throw err;
        this.batchUnsupported = true;
      }
    }
    visit(this.readAllIterated());
  }

  /**
   * Deletes `count` packed keys with BPF_MAP_DELETE_BATCH (per key where the kernel lacks it); returns how many
   * were deleted. The kernel stops a batch at the first key that is gone (ENOENT: an LRU map evicted it, or
   * the program's CPU deleted it) and reports how many it deleted before it: skip that key and go on.
   */
  deleteMany(keys: Buffer, count: number): number {
    let deleted = 0;
    let start = 0;
    while (start < count && !this.deleteBatchUnsupported) {
      const n = [count - start];
      const ret = libbpf().bpf_map_delete_batch(this.fd, keys.subarray(start * this.keySize, count * this.keySize), n, {
        sz: OPTS_SIZE.mapBatch,
        elem_flags: 0n,
        flags: 0n,
      });
      const done = n[0] ?? 0;
      deleted += done;
      if (ret === 0) return deleted;
      if (ret === -2 /* ENOENT */) {
        start += done + 1;
        continue;
      }
      if (ret !== -22 && ret !== -95) check(ret, 'batch-delete from map', this.name, () => `${count - start} keys`);
      this.deleteBatchUnsupported = true;
      start += done;
    }
    for (let i = start; i < count; i++) if (this.delete(keys.subarray(i * this.keySize, (i + 1) * this.keySize))) deleted++;
    return deleted;
  }

  private batchedChunks(chunk: number, visit: (chunk: MapEntries) => void): void {
    const tokenSize = Math.max(this.keySize, 8);
    let inBatch: Buffer | null = null;
    const opts = { sz: OPTS_SIZE.mapBatch, elem_flags: 0n, flags: 0n };
    const keys = Buffer.alloc(this.keySize * chunk);
    const values = Buffer.alloc(this.userValueSize * chunk);
    for (;;) {
      const outBatch = Buffer.alloc(tokenSize);
      const count = [chunk];
      const ret = libbpf().bpf_map_lookup_batch(this.fd, inBatch, outBatch, keys, values, count, opts);
      const got = count[0] ?? 0;
      if (ret < 0 && ret !== -2) {
        // ENOSPC: one hash bucket holds more than `chunk` entries; start over with a bigger chunk.
        if (ret === -28 && chunk < 1 << 20 && inBatch === null) {
          this.batchedChunks(chunk * 4, visit);
          return;
        }
        check(ret, 'batch-read map', this.name);
      }
      if (got > 0) visit({ count: got, keys: keys.subarray(0, got * this.keySize), values: values.subarray(0, got * this.userValueSize) });
      if (ret === -2) return;
      inBatch = outBatch;
    }
  }

  /** Every entry at once (for maps that stay small; stream big ones with forEachChunk). */
  readAll(chunk = 4096): MapEntries {
    const keyParts: Buffer[] = [];
    const valueParts: Buffer[] = [];
    let count = 0;
    this.forEachChunk((c) => {
      // forEachChunk reuses its buffers between chunks: copy.
      keyParts.push(Buffer.from(c.keys));
      valueParts.push(Buffer.from(c.values));
      count += c.count;
    }, chunk);
    return { count, keys: Buffer.concat(keyParts), values: Buffer.concat(valueParts) };
  }

  private readAllIterated(): MapEntries {
    const keyParts: Buffer[] = [];
    const valueParts: Buffer[] = [];
    for (const key of this.keys()) {
      const value = this.lookup(key);
      if (!value) continue;
      keyParts.push(key);
      valueParts.push(value);
    }
    return { count: keyParts.length, keys: Buffer.concat(keyParts), values: Buffer.concat(valueParts) };
  }

  private checkKey(key: Buffer): void {
    if (key.length !== this.keySize) {
      throw new RangeError(`map ${this.name}: key is ${key.length} bytes, expected ${this.keySize}`);
    }
  }
}

/** Result of one BPF_PROG_TEST_RUN. */
export interface TestRunResult {
  retval: number;
  /** Bytes the program left (the whole frame, fragments included). */
  dataOut: Buffer;
  /** Average ns per repetition, as the kernel measured it. */
  durationNs: number;
}

export interface TestRunOptions {
  repeat?: number;
  flags?: number;
  /** Room for the output frame; defaults to the input length plus headroom for a grown frame. */
  dataOutSize?: number;
  /** `struct xdp_md` to pass as context (ingress_ifindex, rx_queue_index ...). */
  ctxIn?: Buffer;
  batchSize?: number;
  /** BPF_F_TEST_XDP_LIVE_FRAMES: frames go through the real XDP verdict path (no output frame is returned). */
  liveFrames?: boolean;
}

/** `BPF_F_TEST_XDP_LIVE_FRAMES` from linux/bpf.h. */
const BPF_F_TEST_XDP_LIVE_FRAMES = 1 << 1;

/** A loaded program, by file descriptor. */
export class BpfProgram {
  readonly name: string;
  readonly fd: number;
  private readonly opts: TestRunOpts;

  constructor(name: string, fd: number) {
    this.name = name;
    this.fd = fd;
    this.opts = {
      sz: OPTS_SIZE.testRun,
      data_in: null,
      data_out: null,
      data_size_in: 0,
      data_size_out: 0,
      ctx_in: null,
      ctx_out: null,
      ctx_size_in: 0,
      ctx_size_out: 0,
      retval: 0,
      repeat: 0,
      duration: 0,
      flags: 0,
      cpu: 0,
      batch_size: 0,
    };
  }

  /** Runs the program once (or `repeat` times) on `data` with BPF_PROG_TEST_RUN. */
  testRun(data: Buffer, options: TestRunOptions = {}): TestRunResult {
    const out = Buffer.alloc(options.liveFrames ? 0 : (options.dataOutSize ?? data.length + 256));
    const o = this.opts;
    o.data_in = data;
    o.data_size_in = data.length;
    o.data_out = options.liveFrames ? null : out;
    o.data_size_out = out.length;
    o.ctx_in = options.ctxIn ?? null;
    o.ctx_size_in = options.ctxIn?.length ?? 0;
    o.repeat = options.repeat ?? 1;
    o.flags = (options.flags ?? 0) | (options.liveFrames ? BPF_F_TEST_XDP_LIVE_FRAMES : 0);
    o.batch_size = options.batchSize ?? 0;
    o.retval = 0;
    o.duration = 0;
    check(libbpf().bpf_prog_test_run_opts(this.fd, o), 'test-run program', this.name, () => `frame of ${data.length} bytes`);
    return { retval: o.retval, dataOut: out.subarray(0, o.data_size_out), durationNs: o.duration };
  }
}

/** A load the kernel or libbpf refused: the verifier's log and libbpf's warnings, and the lines that say why. */
export class BpfLoadError extends BpfError {
  readonly verifierLog: string;
  readonly libbpfWarnings: readonly string[];
  /** The few lines that say why (loadFailureReason): what a user is shown. */
  readonly reason: readonly string[];

  constructor(path: string, errno: number, verifierLog: string, libbpfWarnings: readonly string[]) {
    const reason = loadFailureReason(verifierLog, libbpfWarnings);
    super('load BPF object', path, errno, reason.length > 0 ? reason.join('\n') : undefined);
    this.name = 'BpfLoadError';
    this.verifierLog = verifierLog;
    this.libbpfWarnings = libbpfWarnings;
    this.reason = reason;
  }
}

export interface OpenOptions {
  /**
   * The verifier's log level for the load: 0 (default) logs nothing unless the load fails (libbpf then loads
   * again at level 1 for the reason); 4 (BPF_LOG_STATS) gives the statistics of a load that succeeds.
   */
  logLevel?: number;
}

/** An opened (then loaded) BPF ELF object. Close it to release every map and program fd. */
export class BpfObject {
  readonly path: string;
  private obj: Pointer | null;
  private loaded = false;
  private readonly maps = new Map<string, BpfMap>();
  private readonly logBuf: Buffer;

  private constructor(path: string, obj: Pointer, logBuf: Buffer) {
    this.path = path;
    this.obj = obj;
    this.logBuf = logBuf;
  }

  static open(path: string, options: OpenOptions = {}): BpfObject {
    const logBuf = Buffer.alloc(VERIFIER_LOG_SIZE);
    const opts = {
      sz: OPTS_SIZE.objectOpen,
      object_name: null,
      relaxed_maps: false,
      pin_root_path: null,
      attach_prog_fd_removed: 0,
      kconfig: null,
      btf_custom_path: null,
      kernel_log_buf: logBuf,
      kernel_log_size: logBuf.length,
      kernel_log_level: options.logLevel ?? 0,
    };
    const obj = libbpf().bpf_object__open_file(path, opts);
    if (!obj) throw new BpfError('open BPF object', path, lastErrno() || 2);
    return new BpfObject(path, obj, logBuf);
  }

  /** Sets a map's capacity; only before load(). */
  setMaxEntries(mapName: string, maxEntries: number): void {
    if (this.loaded) throw new Error(`map ${mapName}: capacity can only change before the object is loaded`);
    check(libbpf().bpf_map__set_max_entries(this.mapPointer(mapName), maxEntries), 'set max_entries of map', mapName);
  }

  /** Loads every map and program into the kernel; a refusal is a BpfLoadError that says why. */
  load(): void {
    const { result: ret = 0, error, warnings } = collectLibbpfWarnings(() => libbpf().bpf_object__load(this.pointer()));
    if (error) throw error;
    if (ret < 0) throw new BpfLoadError(this.path, -ret, this.verifierLog(), warnings);
    this.loaded = true;
  }

  /** The kernel's log of the last load (empty at log level 0 when the load succeeded). */
  verifierLog(): string {
    const end = this.logBuf.indexOf(0);
    return this.logBuf.toString('utf8', 0, end >= 0 ? end : undefined);
  }

  /** The verifier's statistics of the load (open the object with logLevel 4 to have them for a load that succeeds). */
  verifierStats(): VerifierStats {
    return verifierStats(this.verifierLog());
  }

  map(name: string): BpfMap {
    let map = this.maps.get(name);
    if (map) return map;
    const ptr = this.mapPointer(name);
    const lib = libbpf();
    const fd = check(lib.bpf_map__fd(ptr), 'get fd of map (is the object loaded?)', name);
    map = new BpfMap(name, fd, lib.bpf_map__key_size(ptr), lib.bpf_map__value_size(ptr), lib.bpf_map__type(ptr));
    this.maps.set(name, map);
    return map;
  }

  program(name: string): BpfProgram {
    const prog = libbpf().bpf_object__find_program_by_name(this.pointer(), name);
    if (!prog) throw new BpfError('find program', `${name} in ${this.path}`, 2);
    return new BpfProgram(name, check(libbpf().bpf_program__fd(prog), 'get fd of program (is the object loaded?)', name));
  }

  close(): void {
    if (this.obj) libbpf().bpf_object__close(this.obj);
    this.obj = null;
    this.maps.clear();
  }

  private mapPointer(name: string): Pointer {
    const ptr = libbpf().bpf_object__find_map_by_name(this.pointer(), name);
    if (!ptr) throw new BpfError('find map', `${name} in ${this.path}`, 2);
    return ptr;
  }

  private pointer(): Pointer {
    if (!this.obj) throw new Error(`BPF object ${this.path} is closed`);
    return this.obj;
  }
}
