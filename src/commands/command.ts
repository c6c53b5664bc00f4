// A CLI command declared once: its options feed both node:util's parseArgs and the generated --help text.
import { parseArgs } from 'node:util';
import { EXIT, UsageError } from './usage.ts';

/** One option: how it parses, how it is checked, and the line of help that says so. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Repeatable: the values come as a list (empty when not given). */
  multiple?: boolean;
  /** The value's name in the help, e.g. FILE. */
  value?: string;
  /** The only values allowed; listed in the help and the usage line. */
  choices?: readonly string[];
  /** A whole number in this range (the value arrives as a number). */
  integer?: { min: number; max: number };
  /** What the option means when it is not given (shown in the help). */
  default?: string;
  /** Without it the command is a usage error. */
  required?: boolean;
  /** A further check of the value: the reason it is refused, or undefined. */
  check?: (value: string) => string | undefined;
  help: string;
}

/** A positional argument, in order. */
interface PositionalSpec {
  name: string;
  help: string;
}

export interface CommandSpec<O extends Record<string, OptionSpec> = Record<string, OptionSpec>> {
  name: string;
  /** The one line of `xdp-decap --help`. */
  summary: string;
  /** What the command does, a paragraph or more. */
  description: string;
  positionals?: readonly PositionalSpec[];
  options: O;
  /** Sections after the options, e.g. "Environment: ...". */
  notes?: readonly string[];
  examples: readonly string[];
}

type ValueOf<S extends OptionSpec> = S['type'] extends 'boolean'
  ? boolean
  : S['multiple'] extends true
    ? string[]
    : S['integer'] extends object
      ? number
      : string;
/** Parsed values: booleans and lists always there, the others when given or defaulted. */
type OptionValues<O extends Record<string, OptionSpec>> = {
  [K in keyof O]: O[K]['type'] extends 'boolean'
    ? boolean
    : O[K]['multiple'] extends true
      ? string[]
      : O[K]['default'] extends string
        ? ValueOf<O[K]>
        : O[K]['required'] extends true
          ? ValueOf<O[K]>
          : ValueOf<O[K]> | undefined;
};

export function defineCommand<O extends Record<string, OptionSpec>>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec;
}

const flag = (name: string, o: OptionSpec) => `--${name}${o.type === 'string' ? ` ${o.choices ? o.choices.join('|') : (o.value ?? 'VALUE')}` : ''}`;

/** `Usage: xdp-decap NAME ...`, from the declaration. */
function usageLine(spec: CommandSpec): string {
  const parts = (spec.positionals ?? []).map((p) => p.name);
  for (const [name, o] of Object.entries(spec.options)) {
    const text = flag(name, o);
    parts.push(o.required ? text : `[${text}]${o.multiple ? '...' : ''}`);
  }
  return `Usage: xdp-decap ${spec.name} ${parts.join(' ')}`.trimEnd();
}

/** The whole --help text, from the declaration. */
export function helpText(spec: CommandSpec): string {
  const rows: Array<[string, string]> = [];
  for (const p of spec.positionals ?? []) rows.push([p.name, p.help]);
  for (const [name, o] of Object.entries(spec.options)) {
    // The choices are in the flag's own column (flag()); the default, when there is one, after the text.
    const extra = o.default !== undefined ? ` (default ${o.default})` : '';
    rows.push([`${o.short ? `-${o.short}, ` : ''}${flag(name, o)}`, `${o.help}${extra}${o.multiple ? '; repeatable' : ''}`]);
  }
  rows.push(['-h, --help', 'this help']);
  const width = Math.min(Math.max(...rows.map(([left]) => left.length)) + 2, 24);
  const options = rows.map(([left, right]) => (left.length + 2 > width ? `  ${left}\n${' '.repeat(width + 2)}${right}` : `  ${left.padEnd(width)}${right}`));
  return [
    usageLine(spec),
    '',
    spec.description,
    '',
    'Options:',
    ...options,
    ...(spec.notes ?? []).flatMap((n) => ['', n]),
    '',
    'Examples:',
    ...spec.examples.map((e) => `  ${e}`),
  ].join('\n');
}

/** Parses argv by the declaration: unknown flags, bad choices and numbers are UsageErrors naming the option. */
function parseCommand<O extends Record<string, OptionSpec>>(
  spec: CommandSpec<O>,
  argv: string[],
): { help: boolean; values: OptionValues<O>; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(spec.options))
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: (spec.positionals ?? []).length > 0, strict: true });
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)}; see xdp-decap ${spec.name} --help`);
  }
  if (parsed.values.help) return { help: true, values: {} as OptionValues<O>, positionals: [] };
  const values: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    const raw = parsed.values[name] as string | boolean | string[] | undefined;
    if (o.type === 'boolean') {
      values[name] = raw === true;
      continue;
    }
    if (o.multiple) {
      const list = (raw as string[] | undefined) ?? [];
      for (const v of list) checkValue(name, o, v);
      values[name] = list;
      continue;
    }
    const text = (raw as string | undefined) ?? o.default;
    if (text === undefined) {
      if (o.required) throw new UsageError(`${spec.name} needs ${flag(name, o)}: ${o.help}; see xdp-decap ${spec.name} --help`);
      values[name] = undefined;
      continue;
    }
    values[name] = checkValue(name, o, text);
  }
  const expected = (spec.positionals ?? []).length;
  if (parsed.positionals.length !== expected) {
    const names = (spec.positionals ?? []).map((p) => p.name).join(' ');
    throw new UsageError(
      expected === 0
        ? `${spec.name} takes no arguments, got ${parsed.positionals.join(' ')}; see xdp-decap ${spec.name} --help`
        : `${spec.name} takes ${names}, got ${parsed.positionals.length} argument${parsed.positionals.length === 1 ? '' : 's'}; see xdp-decap ${spec.name} --help`,
    );
  }
  return { help: false, values: values as OptionValues<O>, positionals: parsed.positionals };
}

function checkValue(name: string, o: OptionSpec, text: string): string | number {
  if (o.choices && !o.choices.includes(text)) throw new UsageError(`--${name} ${text}: expected one of ${o.choices.join(', ')}`);
  if (o.integer) {
    const n = Number(text);
    if (!/^-?\d+$/.test(text.trim()) || n < o.integer.min || n > o.integer.max) {
      throw new UsageError(`--${name} ${text}: expected a whole number from ${o.integer.min} to ${o.integer.max}`);
    }
    return n;
  }
  const why = o.check?.(text);
  if (why) throw new UsageError(`--${name} ${text}: ${why}`);
  return text;
}

/** What a command's body gets: its options parsed and checked by its declaration, and its positionals. */
export interface ParsedCommand<O extends Record<string, OptionSpec>> {
  values: OptionValues<O>;
  positionals: string[];
}

/** A command as the CLI runs it: its declaration, and `main` (argv in, exit code out; --help handled here, once). */
export interface Command {
  spec: CommandSpec;
  main(argv: string[]): Promise<number>;
}

/** Binds a declaration to its body: `--help` prints the generated help, anything else is parsed, then run. */
export function command<O extends Record<string, OptionSpec>>(spec: CommandSpec<O>, run: (parsed: ParsedCommand<O>) => Promise<number>): Command {
  return {
    spec,
    async main(argv) {
      const { help, values, positionals } = parseCommand(spec, argv);
      if (help) {
        console.log(helpText(spec));
        return EXIT.ok;
      }
      return run({ values, positionals });
    },
  };
}
