// A file with no name until it is whole (open O_TMPFILE, then linkat): a writer killed on the way leaves nothing behind.
import { closeSync, constants, existsSync, openSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { lastErrno, libbpf } from '../ffi/libbpf.ts';

/**
 * open(2)'s O_TMPFILE: __O_TMPFILE (020000000 in asm-generic/fcntl.h, which x86-64 and arm64 use) with
 * O_DIRECTORY. Node's fs.constants does not carry it.
 */
const O_TMPFILE = 0o20000000 | constants.O_DIRECTORY;
/** linkat(2): paths relative to the working directory; follow the /proc/self/fd link to the open file. */
const AT_FDCWD = -100;
const AT_SYMLINK_FOLLOW = 0x400;

/** What open(2) says when the file system (NFS, CIFS, vfat, FUSE) or the kernel (before 3.11) has no O_TMPFILE. */
const NO_TMPFILE = new Set(['ENOTSUP', 'EOPNOTSUPP', 'EISDIR', 'EINVAL']);

function errnoName(errno: number): string {
  return Object.entries(osConstants.errno).find(([, value]) => value === errno)?.[0] ?? `errno ${errno}`;
}

/**
 * Opens a new file with no name in `dir`, for writing (mode 0644 less the umask). Its space is freed when the
 * descriptor closes, or the process dies, unless linkUnnamedFile named it first. Returns undefined where the file
 * system has no such files, or /proc is not mounted (linkUnnamedFile reaches the file through it); other
 * failures (ENOENT, EACCES, ...) throw the open(2) error.
 */
export function openUnnamedFile(dir: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(dir, O_TMPFILE | constants.O_WRONLY, 0o644);
  } catch (err) {
    if (NO_TMPFILE.has((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw err;
  }
  if (!existsSync(`/proc/self/fd/${fd}`)) {
    closeSync(fd);
    return undefined;
  }
  return fd;
}

/**
 * Gives the unnamed file open on `fd` the name `path` (in the directory it was opened in). Returns undefined on
 * success, else the errno's name: EEXIST when `path` is taken (never replaced: linkat does not overwrite).
 */
export function linkUnnamedFile(fd: number, path: string): string | undefined {
  const rc = libbpf().linkat(AT_FDCWD, `/proc/self/fd/${fd}`, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
  return rc === 0 ? undefined : errnoName(lastErrno());
}
