// Which processes hold a bpf_link open (from /proc/PID/fd and fdinfo), to name who holds an interface.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Pids (other than this one) with an fd on bpf_link `linkId`; those /proc does not let us read are left out. */
export function linkHolderPids(linkId: number, proc = '/proc'): number[] {
  const pids: number[] = [];
  const wanted = new RegExp(`^link_id:\\s*${linkId}$`, 'm');
  let entries: string[];
  try {
    entries = readdirSync(proc);
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`${proc}/${entry}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`${proc}/${entry}/fd/${fd}`) !== 'anon_inode:bpf_link') continue;
        if (wanted.test(readFileSync(`${proc}/${entry}/fdinfo/${fd}`, 'utf8'))) {
          pids.push(Number(entry));
          break;
        }
      } catch {
        // closed in between
      }
    }
  }
  return pids;
}

/** `pid 1234 (xdp-decap run --interface cap0)`: what the pid runs, for a message. */
export function describePid(pid: number, proc = '/proc'): string {
  try {
    const cmdline = readFileSync(`${proc}/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    // node path/cli.js run ...: show from the script on.
    const script = cmdline.findIndex((arg) => /cli\.[jt]s$/.test(arg));
    const shown = script >= 0 ? ['xdp-decap', ...cmdline.slice(script + 1)] : cmdline;
    return shown.length > 0 ? `pid ${pid} (${shown.join(' ')})` : `pid ${pid}`;
  } catch {
    return `pid ${pid}`;
  }
}
