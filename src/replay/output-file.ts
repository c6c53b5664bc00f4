// Where replay writes: refuses the input itself and anything not a regular file; writes a file nobody sees until it is whole, then puts it in place.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, lstatSync, openSync, renameSync, rmSync, type Stats } from 'node:fs';
import type { Socket } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { isatty } from 'node:tty';
import { CaptureError, STDIO_PATH } from './capture-types.ts';
import { linkUnnamedFile, openUnnamedFile } from './unnamed-file.ts';

/** An output being written: its descriptor, then commit() (put in place) or abort() (throw away). */
export interface OutputFile {
  /** The user's path, or `-` for stdout: what every message names. */
  readonly path: string;
  /** The descriptor to write to; it stays open until commit() or abort(). */
  readonly fd: number;
  /** Makes the written file the target: fsync, then name it or rename it over the target. Call after the writer flushed. */
  commit(): void;
  /** Throws away what was written; safe to call after commit() (does nothing then). */
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

/** Refuses, with one line naming the user's path, a target that is the input or exists and is not a regular file. */
function checkTarget(output: string, input: Stats): void {
  let existing: Stats | undefined;
  try {
    existing = lstatSync(output);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new CaptureError(output, 'a part of the path is not a directory; check the path');
    if (code !== 'ENOENT') throw new CaptureError(output, `cannot look at it (${(err as Error).message})`);
  }
  if (!existing) return;
  const problem = kindOf(existing);
  if (problem) throw new CaptureError(output, problem);
  if (existing.dev === input.dev && existing.ino === input.ino) {
    throw new CaptureError(output, 'is the input capture itself; replay would destroy what it reads: give another --out file');
  }
}

/** Why a file cannot be created in `dir`, with the fix, as one clause. */
function cannotCreate(dir: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT'
      ? `the directory ${dir} does not exist`
      : code === 'EACCES' || code === 'EPERM'
        ? `no permission to create a file in ${dir}`
        : `cannot create a file in ${dir} (${code ?? (err as Error).message})`;
  return `${why}; give a writable directory`;
}

/** A name beside `output` nobody else will pick: `.NAME.<16 hex digits>.partial`. */
function temporaryName(output: string): string {
  return join(dirname(output), `.${basename(output)}.${randomBytes(8).toString('hex')}.partial`);
}

function placementError(output: string, err: unknown): CaptureError {
  const code = typeof err === 'string' ? err : ((err as NodeJS.ErrnoException).code ?? (err as Error).message);
  return new CaptureError(output, `cannot put the capture in place (${code}); check the directory`);
}

/**
 * Names the unnamed file on `fd` `output`. A new target gets the name at once; an existing one is replaced by
 * linking under a temporary name and renaming over it (atomic): only an interruption between those two calls
 * leaves the temporary name behind.
 */
function nameUnnamedFile(fd: number, output: string): void {
  let failure = linkUnnamedFile(fd, output);
  if (failure === undefined) return;
  for (let attempt = 0; failure === 'EEXIST' && attempt < 8; attempt++) {
    const temporary = temporaryName(output);
    failure = linkUnnamedFile(fd, temporary);
    if (failure !== undefined) continue;
    try {
      renameSync(temporary, output);
    } catch (err) {
      rmSync(temporary, { force: true });
      throw placementError(output, err);
    }
    return;
  }
  throw placementError(output, failure);
}

/** An output written to an unnamed file in `output`'s directory; undefined where the file system has none. */
function unnamedOutput(output: string): OutputFile | undefined {
  let fd: number | undefined;
  try {
    fd = openUnnamedFile(dirname(output));
  } catch (err) {
    throw new CaptureError(output, cannotCreate(dirname(output), err));
  }
  if (fd === undefined) return undefined;
  const descriptor = fd;
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    closeSync(descriptor);
  };
  return {
    path: output,
    fd: descriptor,
    commit() {
      try {
        fsyncSync(descriptor);
      } catch (err) {
        throw placementError(output, err);
      }
      try {
        nameUnnamedFile(descriptor, output);
      } finally {
        close();
      }
    },
    // Closing the last descriptor of a file with no name frees it: nothing to remove.
    abort: close,
  };
}

/**
 * Removes `path` once this process has ended, however it ends (a signal, kill -9), unless keep() was called
 * first: a shell in a session of its own reads a line from a pipe only this process writes to, and removes the
 * file when the pipe closes without "keep". Where it cannot start, the file is left as it would be without it.
 */
function removeWhenProcessEnds(path: string): { keep(): void } {
  const script = 'read -r answer; [ "$answer" = keep ] || exec rm -f -- "$1"';
  const watcher = spawn('/bin/sh', ['-c', script, 'xdp-decap-replay-cleanup', path], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
    env: { PATH: '/usr/bin:/bin' },
  });
  watcher.on('error', () => {}); // no /bin/sh: no cleanup, nothing worse
  watcher.stdin?.on('error', () => {}); // the watcher already gone: nothing to tell it
  watcher.unref();
  (watcher.stdin as Socket | null)?.unref(); // the pipe alone does not keep a library caller's process alive
  return {
    keep() {
      watcher.stdin?.end('keep\n');
    },
  };
}

/**
 * An output written to a named temporary file beside `output`, created exclusively (O_EXCL, O_NOFOLLOW, an
 * unpredictable name) and renamed over it on commit: for file systems without unnamed files (NFS, CIFS, vfat).
 * A helper process removes it if replay dies before commit() or abort().
 */
function namedOutput(output: string): OutputFile {
  let temporary = '';
  let fd = -1;
  for (let attempt = 0; fd < 0; attempt++) {
    temporary = temporaryName(output);
    try {
      fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 8) continue;
      throw new CaptureError(output, cannotCreate(dirname(output), err));
    }
  }
  const cleanup = removeWhenProcessEnds(temporary);
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
        renameSync(temporary, output);
        done = true;
      } catch (err) {
        throw placementError(output, err);
      }
      cleanup.keep();
    },
    abort() {
      if (done) return;
      if (open) {
        open = false;
        closeSync(fd);
      }
      rmSync(temporary, { force: true });
      cleanup.keep();
    },
  };
}

/**
 * Opens where replay writes `output`: stdout for `-`; else a file in the target's directory that has no name
 * until commit() (O_TMPFILE; a named temporary file where the file system has none), so an interrupted or failed
 * replay leaves neither a partial file nor a changed target. Refuses, with one line naming the user's path, a
 * target that is the input (`input`: fstat of what is read), or that exists and is not a regular file.
 */
export function openOutput(output: string, input: Stats): OutputFile {
  if (output === STDIO_PATH) {
    if (isatty(1)) throw new CaptureError('--out -', 'stdout is a terminal; redirect it to a file or a pipe (--out - | tshark -r -)');
    return { path: STDIO_PATH, fd: 1, commit: () => {}, abort: () => {} };
  }
  checkTarget(output, input);
  return unnamedOutput(output) ?? namedOutput(output);
}
