// Where replay writes: refuses the input itself and anything not a regular file, writes an exclusive temporary file beside the target and renames it into place.

import { randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, lstatSync, openSync, renameSync, rmSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isatty } from 'node:tty';
import { CaptureError, STDIO_PATH } from './capture-types.ts';

/** An output being written: its descriptor, then commit() (rename into place) or abort() (remove). */
export interface OutputFile {
  /** The user's path, or `-` for stdout: what every message names. */
  readonly path: string;
  /** The descriptor to write to; it stays open until commit() or abort(). */
  readonly fd: number;
  /** Makes the written file the target: fsync, close, then rename over it. Call after the writer flushed. */
  commit(): void;
  /** Removes what was written; safe to call after commit() (does nothing then). */
  abort(): void;
}

function kindOf(stat: Stats): string | undefined {
  if (stat.isFile()) return undefined;
  if (stat.isDirectory()) return 'is a directory; give a file name in it, e.g. --out DIR/out.pcap';
  if (stat.isSymbolicLink()) return 'is a symbolic link; give the path of the file itself, which replay replaces';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'is a device node, not a file; give a file path (--out - writes to stdout)';
  if (stat.isFIFO()) return 'is a FIFO, not a file; give a file path, or --out - and a shell pipe';
  if (stat.isSocket()) return 'is a socket, not a file; give a file path';
  return 'is not a regular file; give a file path';
}

/**
 * Opens where replay writes `output`: stdout for `-`; else a new temporary file, created exclusively
 * (O_EXCL, O_NOFOLLOW, an unpredictable name) in the target's directory, renamed over the target on commit.
 * Refuses, with one line naming the user's path, a target that is the input (`input`: fstat of what is read),
 * or that exists and is not a regular file.
 */
export function openOutput(output: string, input: Stats): OutputFile {
  if (output === STDIO_PATH) {
    if (isatty(1)) throw new CaptureError('--out -', 'stdout is a terminal; redirect it to a file or a pipe (--out - | tshark -r -)');
    return { path: STDIO_PATH, fd: 1, commit: () => {}, abort: () => {} };
  }
  let existing: Stats | undefined;
  try {
    existing = lstatSync(output);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new CaptureError(output, 'a part of the path is not a directory; check the path');
    if (code !== 'ENOENT') throw new CaptureError(output, `cannot look at it (${(err as Error).message})`);
  }
  if (existing) {
    const problem = kindOf(existing);
    if (problem) throw new CaptureError(output, problem);
    if (existing.dev === input.dev && existing.ino === input.ino) {
      throw new CaptureError(output, 'is the input capture itself; replay would destroy what it reads: give another --out file');
    }
  }
  const dir = dirname(output);
  let tmp = '';
  let fd = -1;
  for (let attempt = 0; fd < 0; attempt++) {
    tmp = join(dir, `.${basename(output)}.${randomBytes(8).toString('hex')}.partial`);
    try {
      fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && attempt < 8) continue;
      const why =
        code === 'ENOENT'
          ? `the directory ${dir} does not exist`
          : code === 'EACCES' || code === 'EPERM'
            ? `no permission to create a file in ${dir}`
            : `cannot create a file in ${dir} (${code ?? (err as Error).message})`;
      throw new CaptureError(output, `${why}; give a writable directory`);
    }
  }
  let open = true;
  let done = false;
  return {
    path: output,
    fd,
    commit() {
      try {
        fsyncSync(fd);
        open = false;
        closeSync(fd);
        renameSync(tmp, output);
        done = true;
      } catch (err) {
        throw new CaptureError(
          output,
          `cannot put the capture in place (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check the directory`,
        );
      }
    },
    abort() {
      if (done) return;
      if (open) {
        open = false;
        closeSync(fd);
      }
      rmSync(tmp, { force: true });
    },
  };
}
