/**
 * Typed errors with a stable `code` and an optional `cause`. Composition roots map them to exit
 * codes and messages; nothing below a composition root prints a stack trace for bad input.
 */

/** The base of every error labelguard throws on purpose. `code` is stable; messages are for people. */
export class LabelguardError extends Error {
  override readonly name: string = 'LabelguardError';
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** One problem in a configuration: a dotted path into the document (`requiredLabels[0].key`) and what is wrong. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
  /** 1-based line, when the problem is a syntax error at a known place. */
  readonly line?: number;
}

/** The configuration is unreadable or invalid. The message lists every issue, one a line, each with its path. */
export class ConfigError extends LabelguardError {
  override readonly name = 'ConfigError';
  readonly file: string;
  readonly issues: readonly ConfigIssue[];

  constructor(file: string, issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    super('config-invalid', issues.map((issue) => formatConfigIssue(file, issue)).join('\n'), options);
    this.file = file;
    this.issues = issues;
  }
}

/** `labelguard.config.yaml: requiredLabels[0].key: expected string, received number` */
export function formatConfigIssue(file: string, issue: ConfigIssue): string {
  const where = issue.line === undefined ? file : `${file}:${issue.line}`;
  return issue.path === '' ? `${where}: ${issue.message}` : `${where}: ${issue.path}: ${issue.message}`;
}

/** An input file (a manifest, a dump) cannot be read or parsed. The message starts with `file:line:`. */
export class InputError extends LabelguardError {
  override readonly name = 'InputError';
  readonly file: string;
  readonly line?: number;

  constructor(file: string, message: string, options?: { line?: number; cause?: unknown }) {
    const line = options?.line;
    super('input-invalid', `${line === undefined ? file : `${file}:${line}`}: ${message}`, options);
    this.file = file;
    if (line !== undefined) this.line = line;
  }
}

/** The command line asks for something impossible (unknown flag values, conflicting options). */
export class UsageError extends LabelguardError {
  override readonly name = 'UsageError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('usage', message, options);
  }
}
