// The lazy loader both native bindings share: first library that loads wins, else an error listing every path tried.
import koffi, { type LibraryHandle } from 'koffi';
import { NativeLibraryError } from './errors.ts';

export interface NativeLibrarySpec {
  /** Name for messages, e.g. "libbpf". */
  name: string;
  /** Sonames or paths tried in order. */
  candidates: readonly string[];
  /** Environment variable that replaces the candidates with one path. */
  envOverride: string;
  /** What to tell the user when nothing loads. */
  fix: string;
  /** C signatures by function name. */
  signatures: Record<string, string>;
  /** Functions bound from libc instead of the library. */
  libcFunctions?: ReadonlySet<string>;
}

/** Loads the library and binds every signature; returns the function table. */
export function loadNativeLibrary<T>(spec: NativeLibrarySpec): T {
  const override = process.env[spec.envOverride];
  const candidates = override ? [override] : spec.candidates;
  let lastError: unknown;
  for (const candidate of candidates) {
    let lib: LibraryHandle;
    try {
      lib = koffi.load(candidate);
    } catch (err) {
      lastError = err;
      continue;
    }
    const libc = spec.libcFunctions?.size ? koffi.load('libc.so.6') : lib;
    const table: Record<string, unknown> = {};
    for (const [name, signature] of Object.entries(spec.signatures)) {
      table[name] = (spec.libcFunctions?.has(name) ? libc : lib).func(signature);
    }
    return table as T;
  }
  throw new NativeLibraryError(spec.name, candidates, spec.fix, lastError);
}
