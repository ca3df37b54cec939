import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG as SCHEMA_DEFAULT, configSchema } from '../../lambda/config.js';
import { DEFAULT_CONFIG } from '../../lambda/cli/default-config.js';

describe('the CLI default configuration', () => {
  it('is what the schema makes of an empty file', () => {
    expect(DEFAULT_CONFIG).toStrictEqual(configSchema.parse({}));
    expect(DEFAULT_CONFIG).toStrictEqual(SCHEMA_DEFAULT);
  });

  it('is frozen all the way down, like the schema default', () => {
    const frozen = (v: unknown): boolean =>
      typeof v !== 'object' || v === null || (Object.isFrozen(v) && Object.values(v).every(frozen));
    expect(frozen(DEFAULT_CONFIG)).toBe(true);
  });
});
