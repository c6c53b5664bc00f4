// Reads a config file's text (size-limited, a file, FIFO or stdin) and parses it as YAML or JSON into plain values.
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from './config-error.ts';
import { PREFIX_TRIE_CAPACITY } from './prefixes.ts';

/**
 * The largest config file read. Every list a config can hold is short (the prefix lists at most
 * 2 x PREFIX_TRIE_CAPACITY entries, ~100 KiB written out), and the YAML parser needs about a minute and
 * more than a gigabyte for a 20 MB file: refuse larger files before parsing them.
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * Alias expansions allowed while turning YAML into values: enough for any real config's anchors, far too
 * few for a "billion laughs" document of nested aliases.
 */
const MAX_YAML_ALIASES = 100;

/** Parses YAML or JSON text: by extension, else JSON first and YAML after. */
export function parseConfigText(text: string, path: string): unknown {
  const ext = extname(path).toLowerCase();
  if (ext === '.json' || (ext !== '.yaml' && ext !== '.yml' && text.trimStart().startsWith('{'))) {
    try {
      return JSON.parse(text);
    } catch (err) {
      // V8 quotes the text it choked on, line breaks and all: keep the problem on one line.
      const why = (err instanceof Error ? err.message : String(err)).replace(/\s*[\r\n]+\s*/g, ' ');
      throw new ConfigError(path, [`not valid JSON: ${why}`]);
    }
  }
  // logLevel 'error': the parser's warnings (e.g. a collection as a key) would print a second, unasked line; zod names the key.
  const doc = parseDocument(text, { prettyErrors: true, logLevel: 'error' });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      path,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return `YAML syntax error${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    // The yaml package throws a ReferenceError for too many alias expansions and for an alias with no anchor.
    if (err instanceof ReferenceError) {
      const why = /excessive alias count/i.test(err.message)
        ? `its aliases (*name) expand to too many values (more than ${MAX_YAML_ALIASES} expansions); write the values out, or use fewer nested anchors`
        : `${err.message.split('\n')[0]}; check the anchors (&name) and aliases (*name)`;
      throw new ConfigError(path, [`YAML ${why}`]);
    }
    throw err;
  }
}

/** Reads the file, refusing one larger than MAX_CONFIG_BYTES before reading it all. */
export async function readConfigText(path: string, source = path): Promise<string> {
  if (path === '-') return readStdin(source);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, 'r');
    const stat = await handle.stat();
    if (stat.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    // Read one byte past the limit: a pipe or /proc file has no size to look at beforehand.
    const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let got = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, got, buf.length - got, null);
      if (bytesRead === 0) break;
      got += bytesRead;
      if (got > MAX_CONFIG_BYTES) {
        const size = stat.isFile() ? `${(stat.size / 1024 / 1024).toFixed(1)} MiB` : `more than ${MAX_CONFIG_BYTES} bytes`;
        throw new ConfigError(source, [
          `the config file is ${size}, larger than any config can be (at most ${MAX_CONFIG_BYTES / 1024 / 1024} MiB: ` +
            `decapPrefixes and excludePrefixes hold at most ${PREFIX_TRIE_CAPACITY} IPv4 and ${PREFIX_TRIE_CAPACITY} IPv6 prefixes each); ` +
            'check it is the right file, and merge long prefix lists into shorter prefixes',
        ]);
      }
    }
    return buf.toString('utf8', 0, got);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : err instanceof Error
              ? err.message
              : String(err);
    throw new ConfigError(source, [`cannot read the config file: ${why}`]);
  } finally {
    await handle?.close();
  }
}

/** Reads stdin to its end, with the same limit (stdin may be a pipe or a socket: read as a stream, not opened by path). */
async function readStdin(source: string): Promise<string> {
  const chunks: Buffer[] = [];
  let got = 0;
  for await (const chunk of process.stdin) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    got += buf.length;
    if (got > MAX_CONFIG_BYTES) {
      process.stdin.destroy();
      throw new ConfigError(source, [`the config is more than ${MAX_CONFIG_BYTES} bytes, larger than any config can be; check it is the right input`]);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}
