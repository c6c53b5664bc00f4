// XDP attachment through the kernel: interface lookup, bpf_link attach, query, program/link/map info, detach.
import koffi from 'koffi';
import { BpfMap } from './bpf-object.ts';
import { BpfError, check } from './errors.ts';
import { libbpf, OPTS_SIZE } from './libbpf.ts';

const BPF_XDP_ATTACH_TYPE = 37; // enum bpf_attach_type BPF_XDP
const BPF_LINK_TYPE_XDP = 6;
const XDP_FLAGS = { updateIfNoExist: 1 << 0, skbMode: 1 << 1, drvMode: 1 << 2, hwMode: 1 << 3, replace: 1 << 4 } as const;

/** How an XDP program is attached: libbpf's XDP_ATTACHED_* values. */
const XDP_ATTACH_MODES = ['none', 'native', 'generic', 'offload', 'multi'] as const;
export type XdpAttachMode = (typeof XDP_ATTACH_MODES)[number];

export type AttachModeRequest = 'generic' | 'native';

/** Offsets in the kernel's info structs (include/uapi/linux/bpf.h, stable ABI). */
const PROG_INFO = { size: 232, id: 4, tag: 8, jitedLen: 16, xlatedLen: 20, nrMapIds: 52, mapIds: 56, name: 64, verifiedInsns: 216 } as const;
const MAP_INFO = { size: 88, type: 0, id: 4, keySize: 8, valueSize: 12, maxEntries: 16, name: 24 } as const;
const LINK_INFO = { size: 48, type: 0, id: 4, progId: 8, xdpIfindex: 16 } as const;

/** ifindex of `name` in this network namespace, or 0 when there is no such interface. */
export function interfaceIndex(name: string): number {
  return libbpf().if_nametoindex(name);
}

export interface XdpQuery {
  /** The program attached in whichever mode (0: none). */
  progId: number;
  nativeProgId: number;
  genericProgId: number;
  offloadProgId: number;
  mode: XdpAttachMode;
}

export function queryXdp(ifindex: number, ifname = String(ifindex)): XdpQuery {
  const opts = { sz: OPTS_SIZE.xdpQuery, prog_id: 0, drv_prog_id: 0, hw_prog_id: 0, skb_prog_id: 0, attach_mode: 0 };
  check(libbpf().bpf_xdp_query(ifindex, 0, opts), 'query XDP on interface', ifname);
  return {
    progId: opts.prog_id,
    nativeProgId: opts.drv_prog_id,
    genericProgId: opts.skb_prog_id,
    offloadProgId: opts.hw_prog_id,
    mode: XDP_ATTACH_MODES[opts.attach_mode] ?? 'none',
  };
}

function objectInfo(fd: number, size: number, what: string, prepare?: (info: Buffer) => void): Buffer {
  const info = Buffer.alloc(size);
  prepare?.(info);
  const len = [size];
  check(libbpf().bpf_obj_get_info_by_fd(fd, info, len), 'get info of', what);
  return info;
}

function cString(buf: Buffer, offset: number, max: number): string {
  const end = buf.indexOf(0, offset);
  return buf.toString('utf8', offset, end < 0 || end > offset + max ? offset + max : end);
}

export interface ProgramInfo {
  id: number;
  name: string;
  tag: string;
  mapIds: number[];
}

/** The kernel id of the program behind `fd`. */
export function programIdOfFd(fd: number): number {
  return objectInfo(fd, PROG_INFO.size, `program fd ${fd}`).readUInt32LE(PROG_INFO.id);
}

/** What the kernel made of a loaded program: its size as verified and as JIT-compiled. */
export interface ProgramSize {
  /** BPF instructions after the verifier's rewrites (8 bytes each). */
  xlatedInsns: number;
  /** Bytes of machine code (0 without the JIT). */
  jitedBytes: number;
  /** Instructions the verifier processed to prove it safe (Linux 5.16+; 0 before). */
  verifiedInsns: number;
}

/** The size of the program behind `fd` (bpf_prog_info). */
export function programSize(fd: number): ProgramSize {
  const info = objectInfo(fd, PROG_INFO.size, `program fd ${fd}`);
  return {
    xlatedInsns: info.readUInt32LE(PROG_INFO.xlatedLen) / 8,
    jitedBytes: info.readUInt32LE(PROG_INFO.jitedLen),
    verifiedInsns: info.readUInt32LE(PROG_INFO.verifiedInsns),
  };
}

/** Opens a program by id for its info; the fd is closed again. */
export function programInfo(id: number): ProgramInfo {
  const lib = libbpf();
  const fd = check(lib.bpf_prog_get_fd_by_id(id), 'open program id', String(id));
  try {
    const first = objectInfo(fd, PROG_INFO.size, `program ${id}`);
    const nrMaps = first.readUInt32LE(PROG_INFO.nrMapIds);
    const ids = Buffer.alloc(Math.max(nrMaps, 1) * 4);
    const info = objectInfo(fd, PROG_INFO.size, `program ${id}`, (b) => {
      b.writeUInt32LE(nrMaps, PROG_INFO.nrMapIds);
      b.writeBigUInt64LE(koffi.address(ids), PROG_INFO.mapIds);
    });
    const mapIds: number[] = [];
    for (let i = 0; i < Math.min(nrMaps, info.readUInt32LE(PROG_INFO.nrMapIds)); i++) mapIds.push(ids.readUInt32LE(i * 4));
    return { id, name: cString(info, PROG_INFO.name, 16), tag: info.subarray(PROG_INFO.tag, PROG_INFO.tag + 8).toString('hex'), mapIds };
  } finally {
    lib.close(fd);
  }
}

/** Opens a map by id as a BpfMap (the caller closes `map.fd` when done). */
export function openMapById(id: number): BpfMap {
  const fd = check(libbpf().bpf_map_get_fd_by_id(id), 'open map id', String(id));
  const info = objectInfo(fd, MAP_INFO.size, `map ${id}`);
  return new BpfMap(
    cString(info, MAP_INFO.name, 16),
    fd,
    info.readUInt32LE(MAP_INFO.keySize),
    info.readUInt32LE(MAP_INFO.valueSize),
    info.readUInt32LE(MAP_INFO.type),
  );
}

export interface XdpLinkInfo {
  id: number;
  progId: number;
  ifindex: number;
}

function linkInfoByFd(fd: number): { type: number } & XdpLinkInfo {
  const info = objectInfo(fd, LINK_INFO.size, `link fd ${fd}`);
  return {
    type: info.readUInt32LE(LINK_INFO.type),
    id: info.readUInt32LE(LINK_INFO.id),
    progId: info.readUInt32LE(LINK_INFO.progId),
    ifindex: info.readUInt32LE(LINK_INFO.xdpIfindex),
  };
}

/** Every XDP bpf_link in the system (pinned, or held by a process). */
export function listXdpLinks(): XdpLinkInfo[] {
  const lib = libbpf();
  const out: XdpLinkInfo[] = [];
  const next = [0];
  for (let id = 0; ; ) {
    const ret = lib.bpf_link_get_next_id(id, next);
    if (ret === -2) return out;
    check(ret, 'list links', '');
    id = next[0] ?? 0;
    const fd = lib.bpf_link_get_fd_by_id(id);
    if (fd < 0) continue; // gone in between
    try {
      const info = linkInfoByFd(fd);
      if (info.type === BPF_LINK_TYPE_XDP) out.push({ id: info.id, progId: info.progId, ifindex: info.ifindex });
    } finally {
      lib.close(fd);
    }
  }
}

/** An XDP attachment owned by this process: closing the fd (or the process dying) detaches it. */
export class XdpLink {
  readonly ifname: string;
  readonly ifindex: number;
  readonly mode: AttachModeRequest;
  private fd: number;

  private constructor(ifname: string, ifindex: number, mode: AttachModeRequest, fd: number) {
    this.ifname = ifname;
    this.ifindex = ifindex;
    this.mode = mode;
    this.fd = fd;
  }

  /** Attaches through BPF_LINK_CREATE; fails with EBUSY/EEXIST if any XDP program is already there. */
  static attach(progFd: number, ifname: string, ifindex: number, mode: AttachModeRequest): XdpLink {
    const opts = {
      sz: OPTS_SIZE.linkCreate,
      flags: mode === 'generic' ? XDP_FLAGS.skbMode : XDP_FLAGS.drvMode,
      iter_info: null,
      iter_info_len: 0,
      target_btf_id: 0,
      union_pad: [0n, 0n, 0n, 0n],
    };
    const fd = libbpf().bpf_link_create(progFd, ifindex, BPF_XDP_ATTACH_TYPE, opts);
    if (fd < 0) throw new BpfError(`attach XDP (${mode} mode) to interface`, ifname, -fd);
    return new XdpLink(ifname, ifindex, mode, fd);
  }

  get attached(): boolean {
    return this.fd >= 0;
  }

  /** Still attached to its interface? After the interface is deleted the kernel leaves the link defunct. */
  isLive(): boolean {
    if (this.fd < 0) return false;
    try {
      return linkInfoByFd(this.fd).ifindex === this.ifindex;
    } catch {
      return false;
    }
  }

  get id(): number {
    return this.fd >= 0 ? linkInfoByFd(this.fd).id : 0;
  }

  /** Pins the link in bpffs: it then outlives this process (what `xdp-decap detach` cleans up). */
  pin(path: string): void {
    check(libbpf().bpf_obj_pin(this.fd, path), 'pin XDP link of', `${this.ifname} at ${path}`);
  }

  /** Detaches now (closing the only fd of an unpinned link detaches it). */
  close(): void {
    if (this.fd < 0) return;
    libbpf().bpf_link_detach(this.fd);
    libbpf().close(this.fd);
    this.fd = -1;
  }
}

/** Detaches an XDP link by id (e.g. one left pinned); returns false if it is gone. */
export function detachLinkById(id: number): boolean {
  const lib = libbpf();
  const fd = lib.bpf_link_get_fd_by_id(id);
  if (fd === -2) return false;
  check(fd, 'open link id', String(id));
  try {
    check(lib.bpf_link_detach(fd), 'detach link', String(id));
    return true;
  } finally {
    lib.close(fd);
  }
}

/** Detaches a program attached the legacy (netlink) way, only if it is still `progId`. */
export function detachLegacyXdp(ifindex: number, ifname: string, mode: XdpAttachMode, progId: number): void {
  const modeFlag = mode === 'generic' ? XDP_FLAGS.skbMode : mode === 'native' ? XDP_FLAGS.drvMode : mode === 'offload' ? XDP_FLAGS.hwMode : 0;
  const current = queryXdp(ifindex, ifname);
  if (current.progId !== progId)
    throw new BpfError('detach XDP from interface', ifname, 116 /* ESTALE */, `program ${progId} is no longer the one attached (now ${current.progId})`);
  check(libbpf().bpf_xdp_detach(ifindex, modeFlag, null), 'detach XDP from interface', ifname);
}
