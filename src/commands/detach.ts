// `xdp-decap detach --interface NAME`: removes an xdp-decap program left attached (pinned link, crashed run); only ours.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PROGRAM_NAME } from '../decode/layout.ts';
import { BpfError } from '../ffi/errors.ts';
import { detachLegacyXdp, detachLinkById, interfaceIndex, listXdpLinks, programInfo, queryXdp } from '../ffi/xdp.ts';
import { unreadableProgramsReason } from '../status/read-status.ts';
import { command, defineCommand } from './command.ts';
import { EXIT, UsageError } from './usage.ts';

/** Where links pinned by xdp-decap (or by hand for it) are expected. */
const PIN_DIR = '/sys/fs/bpf/xdp-decap';

const DETACH = defineCommand({
  name: 'detach',
  summary: 'remove an xdp-decap program left attached on an interface',
  description: `Removes the xdp-decap program from an interface when it was left attached (a pinned link, an older
version, a crash). Refuses to touch any other XDP program. Needs root (CAP_SYS_ADMIN: the kernel opens a
program by id, to check it is xdp-decap's, only for it).`,
  options: {
    interface: { type: 'string', value: 'NAME', multiple: true, help: 'the interface to detach xdp-decap from (at least one)' },
  },
  examples: ['xdp-decap detach --interface ens1f0'],
});

/** Detaches xdp-decap from one interface; returns a line saying what happened. */
function detachInterface(name: string): string {
  const ifindex = interfaceIndex(name);
  if (!ifindex) throw new UsageError(`interface ${name} does not exist in this network namespace`);
  const current = queryXdp(ifindex, name);
  if (!current.progId) return `interface ${name}: no XDP program attached; nothing to do`;
  let progName: string;
  try {
    progName = programInfo(current.progId).name;
  } catch (err) {
    // Without CAP_SYS_ADMIN the kernel will not open the program by id: never detach what may not be ours.
    if (err instanceof BpfError && (err.code === 'EPERM' || err.code === 'EACCES'))
      throw new UsageError(`${unreadableProgramsReason(`${name} (program id ${current.progId})`, err)}; nothing was detached`);
    throw err;
  }
  if (progName !== PROGRAM_NAME) {
    throw new UsageError(`interface ${name} has XDP program id ${current.progId} "${progName}", not xdp-decap's ("${PROGRAM_NAME}"); leaving it alone`);
  }
  const links = listXdpLinks().filter((l) => l.ifindex === ifindex && l.progId === current.progId);
  if (links.length > 0) for (const link of links) detachLinkById(link.id);
  else detachLegacyXdp(ifindex, name, current.mode, current.progId);
  // Pins of this interface's link would keep a defunct link object alive: remove them too.
  const pins = existsSync(PIN_DIR) ? readdirSync(PIN_DIR).filter((f) => f === name || f.startsWith(`${name}.`) || f.startsWith(`link-${name}`)) : [];
  for (const pin of pins) rmSync(join(PIN_DIR, pin), { force: true });
  const how = links.length > 0 ? `link ${links.map((l) => l.id).join(', ')}` : `${current.mode} mode`;
  return `interface ${name}: detached xdp-decap program ${current.progId} (${how})${pins.length ? `, removed pins ${pins.join(', ')}` : ''}`;
}

export const detachCommand = command(DETACH, async ({ values }) => {
  if (values.interface.length === 0) throw new UsageError('detach needs --interface NAME; see xdp-decap detach --help');
  for (const name of values.interface) console.log(detachInterface(name));
  return EXIT.ok;
});
