// Removing a network namespace for good: kill what runs inside it, then delete it.
import { spawnSync } from 'node:child_process';

/** Kills the processes inside `ns` (an XDP link held by one detaches with it), then deletes `ns`; quiet when gone. */
export function removeNamespace(ns: string): void {
  const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
  for (const pid of pids.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  spawnSync('ip', ['netns', 'del', ns]);
}
