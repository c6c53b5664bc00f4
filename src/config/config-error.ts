// A config that cannot be used: its problems as structured issues (key path, message, hint) and as one line each.

/** One problem: where (a key path into the config, when it is about a key), what, and the likely fix for a typo. */
export interface ConfigIssue {
  /** Keys and list indexes from the top, e.g. ['interfaces', 0, 'name']; absent for a problem of the whole input. */
  path?: ReadonlyArray<string | number>;
  message: string;
  /** For an unknown key: the known key it most likely means. */
  didYouMean?: string;
  /** For an unknown key with no close match: the keys known at that place. */
  knownKeys?: readonly string[];
}

/** `interfaces[0].name`, or `(top level)` for the root. */
function pathText(path: ReadonlyArray<string | number>): string {
  return path.length === 0 ? '(top level)' : path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${p}`)).join('');
}

/** The one line a user reads: `path: message; did you mean 'x'?`. */
export function formatIssue(issue: ConfigIssue): string {
  const hint = issue.didYouMean ? `; did you mean '${issue.didYouMean}'?` : issue.knownKeys ? `; known keys here: ${issue.knownKeys.join(', ')}` : '';
  return issue.path ? `${pathText(issue.path)}: ${issue.message}${hint}` : `${issue.message}${hint}`;
}

/** A config that cannot be used; `message` has one line per problem, each prefixed with the source. */
export class ConfigError extends Error {
  /** What was read: a file path, stdin, an environment variable, or "--interface". */
  readonly source: string;
  readonly issues: readonly ConfigIssue[];
  /** The issues as lines, without the source. */
  readonly problems: string[];

  constructor(source: string, problems: ReadonlyArray<string | ConfigIssue>) {
    const issues = problems.map((p) => (typeof p === 'string' ? { message: p } : p));
    const lines = issues.map(formatIssue);
    super(lines.map((p) => `${source}: ${p}`).join('\n'));
    this.name = 'ConfigError';
    this.source = source;
    this.issues = issues;
    this.problems = lines;
  }
}
