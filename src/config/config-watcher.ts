// Watches a config file for changes however they are made: written in place, replaced by a rename, deleted and re-created.
import { type FSWatcher, statSync, watch } from 'node:fs';
import { dirname } from 'node:path';

/** What identifies one version of the file: a rename or re-creation changes the inode, an edit the size or time. */
export function configFingerprint(path: string): string {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  } catch {
    return 'missing';
  }
}

export interface ConfigWatcher {
  close(): void;
}

/**
 * Calls `onChange` (debounced by `settleMs`) whenever the file at `path` differs from what it was at the last
 * call. It watches the directory, not the file: an editor or `sed -i` that writes a new file and renames it over
 * the old one replaces the inode a file watch would be attached to, and every later save would go unseen. A
 * directory event is only a hint: the file's own fingerprint decides (a symlinked config, as Kubernetes swaps
 * it, changes its target's fingerprint too). `baseline` is the fingerprint taken when the running config was
 * read: a save made before the watch started still counts.
 */
export function watchConfigFile(path: string, onChange: () => void, options: { baseline?: string; settleMs?: number } = {}): ConfigWatcher {
  const settleMs = options.settleMs ?? 300;
  let last = options.baseline ?? configFingerprint(path);
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const now = configFingerprint(path);
      if (now === last) return;
      last = now;
      onChange();
    }, settleMs);
  };
  // Any event in the directory is a hint (another file matters when the config is a symlink into it); the
  // fingerprint decides.
  const watcher: FSWatcher = watch(dirname(path), check);
  // A save between the read the running config came from (`baseline`) and this watch is not missed.
  check();
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
