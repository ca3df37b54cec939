/**
 * Label key and value syntax exactly as the API server checks it (selector-semantics §1.3):
 * apimachinery `IsLabelKey`/`IsQualifiedName` and `IsLabelValue`. Each validator returns null when
 * the input is valid, else a message saying what is wrong.
 */

const NAME_MAX = 63;
const PREFIX_MAX = 253;
/** `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`: upper case allowed, alphanumeric at both ends. */
const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
/** RFC 1123 DNS subdomain: lower case only. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const NAME_RULE =
  "must be 63 characters or less, consist of alphanumeric characters, '-', '_' or '.', and start and end with an alphanumeric character";

/** null when `key` is a valid label key (`[prefix/]name`), else why it is not. */
export function validateLabelKey(key: string): string | null {
  const parts = key.split('/');
  if (parts.length > 2) return `label key ${quote(key)} may contain at most one '/' (prefix/name)`;
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix === '') return `label key ${quote(key)}: the prefix before '/' must not be empty`;
    if (prefix.length > PREFIX_MAX)
      return `label key ${quote(key)}: the prefix must be no more than ${PREFIX_MAX} characters`;
    if (!DNS_SUBDOMAIN.test(prefix))
      return `label key ${quote(key)}: the prefix must be a lower-case DNS subdomain (e.g. example.com)`;
  }
  if (name === '') return `label key ${quote(key)}: the name part must not be empty`;
  if (name.length > NAME_MAX)
    return `label key ${quote(key)}: the name part must be no more than ${NAME_MAX} characters`;
  if (!NAME.test(name)) return `label key ${quote(key)}: the name part ${NAME_RULE}`;
  return null;
}

/** null when `value` is a valid label value (the empty string is valid), else why it is not. */
export function validateLabelValue(value: string): string | null {
  if (value === '') return null;
  if (value.length > NAME_MAX) return `label value ${quote(value)} must be no more than ${NAME_MAX} characters`;
  if (!NAME.test(value)) return `label value ${quote(value)} ${NAME_RULE} (or be empty)`;
  return null;
}

export function isValidLabelKey(key: string): boolean {
  return validateLabelKey(key) === null;
}

export function isValidLabelValue(value: string): boolean {
  return validateLabelValue(value) === null;
}

function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 77)}...` : s);
}
