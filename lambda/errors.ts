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

/** The history store failed or answered something unexpected. A run that meets one is not recorded. */
export class StoreError extends LabelguardError {
  override readonly name: string = 'StoreError';

  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'store-failed', message, options);
  }
}

/** Another process is using the embedded store's directory (one process at a time). */
export class StoreInUseError extends StoreError {
  override readonly name = 'StoreInUseError';
  readonly dir: string;

  constructor(dir: string, holder: string, options?: { cause?: unknown }) {
    super(
      `store in use: ${dir} is used by another labelguard process (${holder}); wait for it to finish, or give another --store-dir`,
      { ...options, code: 'store-in-use' },
    );
    this.dir = dir;
  }
}

/** Another run of the same cluster holds the cluster's lease and did not finish in time. */
export class RunInProgressError extends StoreError {
  override readonly name = 'RunInProgressError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: 'run-in-progress' });
  }
}

/** A run scheduled before the cluster's latest recorded run, and not recorded itself: runs are recorded in time order. */
export class RunOutOfOrderError extends StoreError {
  override readonly name = 'RunOutOfOrderError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: 'run-out-of-order' });
  }
}

/** How a notification failed: worth retrying now, later, never, or not possible at all (`unsupported`). */
export type NotifyFailure = 'rate-limited' | 'transient' | 'permanent' | 'unsupported';

/** How far a notification failure reaches: this message, every message to its channel, or every message. */
export type NotifyScope = 'message' | 'channel' | 'workspace';

/** A chat service call failed. Never fails a scan: the message stays in the outbox (or is recorded as failed). */
export class NotifyError extends LabelguardError {
  override readonly name = 'NotifyError';
  readonly reason: NotifyFailure;
  readonly scope: NotifyScope;
  /** The service's own code: `channel_not_found`, `invalid_auth`, `http_503`, `timeout`, ... */
  readonly serviceCode: string;
  /** True when the request may have taken effect although it failed (a timeout, a 5xx): look before posting again. */
  readonly ambiguous: boolean;
  /** For `rate-limited`: how long the service asked to wait. */
  readonly retryAfterMs: number | null;

  constructor(
    message: string,
    details: {
      reason: NotifyFailure;
      scope: NotifyScope;
      serviceCode: string;
      ambiguous?: boolean;
      retryAfterMs?: number | null;
      cause?: unknown;
    },
  ) {
    super('notify-failed', message, { cause: details.cause });
    this.reason = details.reason;
    this.scope = details.scope;
    this.serviceCode = details.serviceCode;
    this.ambiguous = details.ambiguous ?? false;
    this.retryAfterMs = details.retryAfterMs ?? null;
  }
}

/** A secret (the Slack token in Secrets Manager) could not be read or holds nothing usable. */
export class SecretError extends LabelguardError {
  override readonly name = 'SecretError';
  readonly secretId: string;

  constructor(secretId: string, message: string, options?: { cause?: unknown }) {
    super('secret-unavailable', message, options);
    this.secretId = secretId;
  }
}
