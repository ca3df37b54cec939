/**
 * SARIF 2.1.0 for code-scanning uploads: one run, the rule catalogue as `tool.driver.rules`, one
 * result per finding (waived ones carry an external suppression), and the clusters that could not
 * be read as tool execution notifications, so an unreadable cluster never looks like a clean one.
 */
import type { Finding, RuleId, ScanReport, Severity } from '../audit/model.js';
import { describeRead, incompleteReads } from './describe.js';
import type { RuleDescriptor } from './rule-descriptor.js';

export interface SarifOptions {
  /** The labelguard version that produced the report. */
  readonly toolVersion: string;
  /** The rule catalogue; a finding whose rule is missing here gets a minimal descriptor. */
  readonly rules: readonly RuleDescriptor[];
}

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
export const SARIF_VERSION = '2.1.0';
export const TOOL_NAME = 'labelguard';
export const TOOL_INFORMATION_URI = 'https://github.com/labelguard/labelguard';
/** The partialFingerprints key; bump the version if the hashed identity ever changes. */
export const FINGERPRINT_KEY = 'labelguardFinding/v1';

export type SarifLevel = 'error' | 'warning' | 'note';

const LEVELS: Readonly<Record<Severity, SarifLevel>> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};

/**
 * GitHub code scanning buckets `security-severity` as critical > 9.0, high 7.0–8.9,
 * medium 4.0–6.9, low 0.1–3.9; info is not a security problem.
 */
const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '0.0',
};

/** GitHub applies `security-severity` only to rules tagged `security`. */
const RULE_TAGS = ['security', 'kubernetes', 'network-policy'] as const;

export function sarifLevel(severity: Severity): SarifLevel {
  return LEVELS[severity];
}

interface SarifMessage {
  readonly text: string;
}

interface SarifRule {
  readonly id: string;
  readonly name: string;
  readonly shortDescription: SarifMessage;
  readonly fullDescription: SarifMessage;
  readonly help: SarifMessage;
  readonly defaultConfiguration: { readonly level: SarifLevel };
  readonly properties: { readonly 'security-severity': string; readonly tags: readonly string[] };
}

interface SarifLocation {
  readonly physicalLocation?: {
    readonly artifactLocation: { readonly uri: string };
    readonly region?: { readonly startLine: number };
  };
  readonly logicalLocations?: readonly {
    readonly name: string;
    readonly fullyQualifiedName: string;
    readonly kind: string;
  }[];
}

interface SarifResult {
  readonly ruleId: string;
  readonly ruleIndex: number;
  readonly level: SarifLevel;
  readonly message: SarifMessage;
  readonly locations: readonly SarifLocation[];
  readonly partialFingerprints: Readonly<Record<string, string>>;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly suppressions?: readonly {
    readonly kind: 'external';
    readonly status: 'accepted';
    readonly justification: string;
    readonly properties: { readonly owner: string; readonly expires: string };
  }[];
}

interface SarifNotification {
  readonly level: SarifLevel;
  readonly message: SarifMessage;
  readonly properties: { readonly cluster: string };
}

export function formatSarif(report: ScanReport, options: SarifOptions): string {
  const rules = catalogue(report.findings, options.rules);
  const ruleIndex = new Map(rules.map((rule, index) => [rule.id, index]));
  const occurrences = new Map<string, number>();

  const results = report.findings.map((finding): SarifResult => {
    const identity = fingerprintIdentity(finding);
    const occurrence = (occurrences.get(identity) ?? 0) + 1;
    occurrences.set(identity, occurrence);
    return {
      ruleId: finding.rule,
      ruleIndex: ruleIndex.get(finding.rule) ?? -1,
      level: sarifLevel(finding.severity),
      message: { text: finding.message },
      locations: [locate(finding)],
      // Same rule/cluster/namespace/policy twice (two missing labels, say) gets ":2", as GitHub's own line hashes do.
      partialFingerprints: { [FINGERPRINT_KEY]: `${fnv1a64(identity)}:${occurrence}` },
      properties: {
        severity: finding.severity,
        cluster: finding.cluster,
        namespace: finding.namespace,
        policy: finding.policy,
        fix: finding.fix,
      },
      ...(finding.waived === undefined
        ? {}
        : {
            suppressions: [
              {
                kind: 'external',
                status: 'accepted',
                justification: finding.waived.reason,
                properties: { owner: finding.waived.owner, expires: finding.waived.expires },
              },
            ],
          }),
    };
  });

  const notifications: SarifNotification[] = report.clusters.flatMap((cluster) => [
    ...cluster.errors.map((error) => ({
      level: 'error' as const,
      message: { text: `${cluster.cluster}: ${error}` },
      properties: { cluster: cluster.cluster },
    })),
    ...incompleteReads(cluster).map((read) => ({
      level: 'warning' as const,
      message: { text: `${cluster.cluster}: incomplete read: ${describeRead(read)}` },
      properties: { cluster: cluster.cluster },
    })),
  ]);

  const log = {
    $schema: SARIF_SCHEMA,
    version: SARIF_VERSION,
    runs: [
      {
        tool: {
          driver: {
            name: TOOL_NAME,
            version: options.toolVersion,
            informationUri: TOOL_INFORMATION_URI,
            rules,
          },
        },
        invocations: [
          {
            executionSuccessful: report.clusters.every((cluster) => cluster.status !== 'failed'),
            endTimeUtc: report.generatedAt,
            toolExecutionNotifications: notifications,
          },
        ],
        results,
        properties: { generatedAt: report.generatedAt, clusters: report.clusters.map((c) => c.cluster) },
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}

/** The supplied rules, plus a minimal descriptor for any rule a finding uses that the catalogue lacks. */
function catalogue(findings: readonly Finding[], descriptors: readonly RuleDescriptor[]): SarifRule[] {
  const rules = descriptors.map(toSarifRule);
  const known = new Set<string>(descriptors.map((d) => d.id));
  for (const finding of findings) {
    if (known.has(finding.rule)) continue;
    known.add(finding.rule);
    rules.push(
      toSarifRule({
        id: finding.rule,
        severity: finding.severity,
        summary: finding.rule,
        explanation: finding.rule,
        fix: finding.fix ?? finding.rule,
      }),
    );
  }
  return rules;
}

function toSarifRule(rule: RuleDescriptor): SarifRule {
  return {
    id: rule.id,
    name: ruleName(rule.id),
    shortDescription: { text: rule.summary },
    fullDescription: { text: rule.explanation },
    help: { text: rule.fix },
    defaultConfiguration: { level: sarifLevel(rule.severity) },
    properties: { 'security-severity': SECURITY_SEVERITY[rule.severity], tags: RULE_TAGS },
  };
}

/** SARIF rule names are identifiers: `label-missing` → `LabelMissing`. */
function ruleName(id: RuleId): string {
  return id
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** The manifest file and line when known, and always the logical place in the cluster. */
function locate(finding: Finding): SarifLocation {
  const logical = logicalLocation(finding);
  if (finding.source === undefined) return { logicalLocations: [logical] };
  const { file, line } = finding.source;
  return {
    physicalLocation: {
      artifactLocation: { uri: fileUri(file) },
      ...(line !== undefined && Number.isInteger(line) && line >= 1 ? { region: { startLine: line } } : {}),
    },
    logicalLocations: [logical],
  };
}

function logicalLocation(finding: Finding): { name: string; fullyQualifiedName: string; kind: string } {
  if (finding.namespace !== null) {
    return {
      name: finding.namespace,
      fullyQualifiedName: `${finding.cluster}/${finding.namespace}`,
      kind: 'namespace',
    };
  }
  if (finding.policy !== null) {
    const { kind, namespace, name } = finding.policy;
    return {
      name,
      fullyQualifiedName: [finding.cluster, namespace ?? kind, name].join('/'),
      kind: 'resource',
    };
  }
  return { name: finding.cluster, fullyQualifiedName: finding.cluster, kind: 'module' };
}

/**
 * A relative path stays relative (code scanning resolves it against the repository root), with
 * `/` separators and the characters a URI reference cannot hold percent-encoded. A Windows drive
 * path would otherwise parse as a URI scheme, so it becomes a file URI.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function fileUri(file: string): string {
  const slashed = file.replace(/\\/g, '/').replace(LONE_SURROGATE, '\ufffd'); // encodeURI throws on lone surrogates
  const encoded = encodeURI(slashed).replace(/[?#]/g, (c) => (c === '?' ? '%3F' : '%23'));
  return /^[A-Za-z]:\//.test(slashed) ? `file:///${encoded}` : encoded;
}

function fingerprintIdentity(finding: Finding): string {
  const { policy } = finding;
  return JSON.stringify([
    finding.rule,
    finding.cluster,
    finding.namespace,
    policy === null ? null : [policy.kind, policy.namespace, policy.name],
  ]);
}

const FNV_OFFSET_64 = 0xcbf29ce484222325n;
const FNV_PRIME_64 = 0x100000001b3n;
const MASK_64 = 0xffffffffffffffffn;

/** 64-bit FNV-1a over the UTF-8 bytes, as 16 hex digits: stable across runs, platforms and versions. */
export function fnv1a64(text: string): string {
  let hash = FNV_OFFSET_64;
  for (const byte of new TextEncoder().encode(text)) {
    hash = ((hash ^ BigInt(byte)) * FNV_PRIME_64) & MASK_64;
  }
  return hash.toString(16).padStart(16, '0');
}
