/**
 * A small validator for the OpenAPI v3 subset Kubernetes CRDs use (structural schemas): `type`,
 * `required`, `enum`, `properties`, `items`, `additionalProperties`, `maxLength`, `pattern` and
 * `x-kubernetes-preserve-unknown-fields`. Like the API server with strict field validation, a field
 * the schema does not declare is an error unless the schema preserves unknown fields or gives
 * `additionalProperties`. Returns every problem, each with its path; [] when the value is valid.
 */

export interface Schema {
  readonly type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  readonly required?: readonly string[];
  readonly enum?: readonly unknown[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly additionalProperties?: boolean | Schema;
  readonly items?: Schema;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly description?: string;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
}

export interface SchemaProblem {
  /** `spec.rules[0].validate.failureAction`; '' for the root. */
  readonly path: string;
  readonly message: string;
}

export function validateAgainstSchema(value: unknown, schema: Schema, path = ''): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  visit(value, schema, path, problems);
  return problems;
}

function visit(value: unknown, schema: Schema, path: string, out: SchemaProblem[]): void {
  const problem = (message: string): void => {
    out.push({ path, message });
  };
  if (schema.type !== undefined && !hasType(value, schema.type)) {
    problem(`expected ${schema.type}, found ${describe(value)}`);
    return;
  }
  if (schema.enum !== undefined && !schema.enum.some((e) => e === value)) {
    problem(`expected one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}, found ${JSON.stringify(value)}`);
  }
  if (typeof value === 'string') {
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength) {
      problem(`longer than ${schema.maxLength} characters`);
    }
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
      problem(`does not match ${schema.pattern}`);
    }
  }
  if (Array.isArray(value)) {
    if (schema.items !== undefined)
      value.forEach((item, i) => visit(item, schema.items as Schema, `${path}[${i}]`, out));
    return;
  }
  if (!isRecord(value)) return;
  for (const key of schema.required ?? []) {
    if (value[key] === undefined) out.push({ path: join(path, key), message: 'required' });
  }
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  for (const [key, child] of Object.entries(value)) {
    const declared = schema.properties?.[key];
    if (declared !== undefined) visit(child, declared, join(path, key), out);
    else if (typeof schema.additionalProperties === 'object')
      visit(child, schema.additionalProperties, join(path, key), out);
    else if (schema.additionalProperties === true || preserve) continue;
    else if (schema.properties !== undefined || schema.additionalProperties === false || schema.type === 'object') {
      out.push({ path: join(path, key), message: 'unknown field' });
    }
  }
}

function hasType(value: unknown, type: NonNullable<Schema['type']>): boolean {
  switch (type) {
    case 'object':
      return isRecord(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function join(path: string, key: string): string {
  return /^[A-Za-z_$][\w$-]*$/.test(key) ? (path === '' ? key : `${path}.${key}`) : `${path}[${JSON.stringify(key)}]`;
}
