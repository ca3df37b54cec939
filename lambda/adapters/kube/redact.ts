/**
 * Credentials never reach logs, reports or error messages. Every reason labelguard prints about a
 * cluster read goes through `redactSecrets`, which masks EKS tokens, presigned STS URLs (their
 * signature, credential and session token), and bearer tokens, wherever they appear in the text.
 */

const RULES: readonly (readonly [RegExp, string])[] = [
  // A presigned STS GetCallerIdentity URL, whole: it is a credential for 15 minutes.
  [/https?:\/\/sts(?:\.[a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?\/?\?[^\s"'<>]*/gi, '[presigned-url-redacted]'],
  [/k8s-aws-v1\.[A-Za-z0-9_\-=+/]*/g, 'k8s-aws-v1.[redacted]'],
  [/(X-Amz-(?:Signature|Security-Token|Credential)=)[^&\s"'<>]*/gi, '$1[redacted]'],
  [/(\bBearer\s+)[^\s"',;]+/gi, '$1[redacted]'],
  [/(\bauthorization["']?\s*[:=]\s*["']?)(?!(?:Bearer|Basic)\s)[^\s"',;&]+/gi, '$1[redacted]'],
  [/(\bBasic\s+)[A-Za-z0-9+/=]{8,}/g, '$1[redacted]'],
];

export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
  return out;
}
