// Keeps the decap program attached to each configured interface: checks what is there first, attaches by
// bpf_link, notices interfaces that disappear or come back, and detaches on request.

import { PROGRAM_NAME } from '../decode/layout.ts';
import { BpfError } from '../ffi/errors.ts';
import { type AttachModeRequest, detachLegacyXdp, detachLinkById, interfaceIndex, listXdpLinks, programInfo, queryXdp, XdpLink } from '../ffi/xdp.ts';
import { describePid, linkHolderPids } from './link-holders.ts';
import type { Logger } from './logger.ts';

export type AttachMode = 'generic' | 'native' | 'auto';

export interface InterfaceRequest {
  name: string;
  mode: AttachMode;
  /** Take over from another XDP program already on the interface. */
  replace: boolean;
}

type InterfaceState =
  | { state: 'attached'; ifindex: number; mode: AttachModeRequest; linkId: number }
  | { state: 'missing' }
  | { state: 'refused'; reason: string /** Another running xdp-decap holds it (not an old pinned link, not a foreign program). */; heldByDecap?: boolean }
  | { state: 'failed'; reason: string };

export interface InterfaceStatus {
  name: string;
  requested: AttachMode;
  status: InterfaceState;
}

interface Slot {
  request: InterfaceRequest;
  link?: XdpLink;
  status: InterfaceState;
}

/** Describes the program on an interface for messages: `id 42 "xdp_foo"`. */
function describeProgram(progId: number): string {
  try {
    return `id ${progId} "${programInfo(progId).name}"`;
  } catch {
    return `id ${progId}`;
  }
}

/**
 * `pid 1234 (xdp-decap run ...), link id 7, program id 55` when a running xdp-decap process holds `progId`
 * on the interface through its bpf_link; undefined for anything else (a foreign program, a pinned link).
 */
function decapHolder(ifindex: number, progId: number): string | undefined {
  try {
    if (programInfo(progId).name !== PROGRAM_NAME) return undefined;
    const link = listXdpLinks().find((l) => l.ifindex === ifindex && l.progId === progId);
    if (!link) return undefined;
    const pids = linkHolderPids(link.id);
    if (pids.length === 0) return undefined;
    return `${pids.map((pid) => describePid(pid)).join(', ')}, link id ${link.id}, program id ${progId}`;
  } catch {
    return undefined; // the program or link went away meanwhile: handled as any other program
  }
}

/** Removes whatever XDP program is on the interface (by its link if it has one, else the legacy way). */
function removeExisting(ifindex: number, ifname: string): void {
  const current = queryXdp(ifindex, ifname);
  if (!current.progId) return;
  const link = listXdpLinks().find((l) => l.ifindex === ifindex && l.progId === current.progId);
  if (link) detachLinkById(link.id);
  else detachLegacyXdp(ifindex, ifname, current.mode, current.progId);
}

/** start() refuses to run beside another xdp-decap process that holds one of its interfaces. */
export class InterfaceHeldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InterfaceHeldError';
  }
}

export class InterfaceAttacher {
  private readonly progFd: number;
  private readonly progId: number;
  private readonly logger: Logger;
  private readonly beforeAttach: (ifindex: number, name: string) => void;
  private readonly slots = new Map<string, Slot>();

  /** `beforeAttach` learns which name an ifindex is, before the program starts counting there. */
  constructor(progFd: number, progId: number, logger: Logger, beforeAttach: (ifindex: number, name: string) => void = () => undefined) {
    this.progFd = progFd;
    this.progId = progId;
    this.logger = logger;
    this.beforeAttach = beforeAttach;
  }

  /** Sets the wanted interfaces: detaches those no longer wanted, attaches new ones. */
  setInterfaces(requests: readonly InterfaceRequest[]): void {
    const wanted = new Map(requests.map((r) => [r.name, r]));
    for (const [name, slot] of this.slots) {
      const next = wanted.get(name);
      if (!next || next.mode !== slot.request.mode || next.replace !== slot.request.replace) {
        this.release(slot);
        this.slots.delete(name);
        if (!next) this.logger.info(`interface ${name}: detached (no longer configured)`);
      }
    }
    for (const request of requests) {
      const existing = this.slots.get(request.name);
      if (!existing) {
        const slot: Slot = { request, status: { state: 'missing' } };
        this.slots.set(request.name, slot);
        this.reconcile(slot, true);
      } else if (existing.status.state === 'refused') {
        // A reload is the operator saying "look again" (e.g. after removing the other program).
        existing.status = { state: 'missing' };
        this.reconcile(existing, true);
      }
    }
  }

  /** Re-checks every interface: re-attaches one that came back, notes one that went away. */
  poll(): void {
    for (const slot of this.slots.values()) this.reconcile(slot, false);
  }

  status(): InterfaceStatus[] {
    return [...this.slots.values()].map((s) => ({ name: s.request.name, requested: s.request.mode, status: s.status }));
  }

  detachAll(): void {
    for (const slot of this.slots.values()) {
      if (slot.link) this.logger.info(`interface ${slot.request.name}: detached`);
      this.release(slot);
    }
    this.slots.clear();
  }

  private release(slot: Slot): void {
    slot.link?.close();
    slot.link = undefined;
    slot.status = { state: 'missing' };
  }

  private reconcile(slot: Slot, first: boolean): void {
    const { name } = slot.request;
    if (slot.status.state === 'refused') return; // waits for a config change; retrying would only repeat it
    const ifindex = interfaceIndex(name);
    if (slot.link?.isLive() && slot.link.ifindex === ifindex) return;
    if (slot.link) {
      // The kernel detached us: the interface was deleted (and maybe re-created with a new ifindex).
      this.logger.warn(`interface ${name}: gone (was ifindex ${slot.link.ifindex}); traffic there is no longer decapsulated`);
      this.release(slot);
    }
    if (ifindex === 0) {
      if (first || slot.status.state !== 'missing') {
        this.logger.warn(`interface ${name}: does not exist; will attach when it appears`);
      }
      slot.status = { state: 'missing' };
      return;
    }
    this.attach(slot, ifindex);
  }

  private attach(slot: Slot, ifindex: number): void {
    const { name, mode, replace } = slot.request;
    try {
      const existing = queryXdp(ifindex, name);
      if (existing.progId && existing.progId !== this.progId) {
        // Two xdp-decap processes on one interface would export the same traffic twice: never take over, even with replace.
        const holder = decapHolder(ifindex, existing.progId);
        if (holder) {
          const reason = `already held by another xdp-decap: ${holder}; stop that one first, or remove ${name} from one of the two configs`;
          slot.status = { state: 'refused', reason, heldByDecap: true };
          this.logger.error(`interface ${name}: ${reason}`);
          return;
        }
        const what = `${describeProgram(existing.progId)} (${existing.mode} mode)`;
        if (!replace) {
          const reason = `another XDP program is attached: ${what}; not taking over. Set replace: true for this interface to replace it, or remove it (xdp-decap detach --interface ${name} if it is an old xdp-decap)`;
          slot.status = { state: 'refused', reason };
          this.logger.error(`interface ${name}: ${reason}`);
          return;
        }
        this.logger.warn(`interface ${name}: replacing ${what} as configured (replace: true)`);
        removeExisting(ifindex, name);
      }
      this.beforeAttach(ifindex, name);
      const link = this.attachInMode(name, ifindex, mode);
      slot.link = link;
      slot.status = { state: 'attached', ifindex, mode: link.mode, linkId: link.id };
      const how = mode === 'auto' ? `${link.mode} mode (auto)` : `${link.mode} mode`;
      this.logger.info(`interface ${name}: attached in ${how}, ifindex ${ifindex}, link id ${link.id}`);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      // Retried on every poll; say it once, not once a second.
      const repeated = slot.status.state === 'failed' && slot.status.reason === reason;
      slot.status = { state: 'failed', reason };
      if (!repeated) this.logger.error(`interface ${name}: ${reason}; will retry`);
    }
  }

  private attachInMode(name: string, ifindex: number, mode: AttachMode): XdpLink {
    if (mode !== 'auto') return XdpLink.attach(this.progFd, name, ifindex, mode);
    try {
      return XdpLink.attach(this.progFd, name, ifindex, 'native');
    } catch (err) {
      if (!(err instanceof BpfError)) throw err;
      this.logger.info(`interface ${name}: native mode unavailable (${err.code}); using generic mode`);
      return XdpLink.attach(this.progFd, name, ifindex, 'generic');
    }
  }
}
