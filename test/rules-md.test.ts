import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RULES } from '../lambda/audit/index.js';
import { renderRulesMarkdown } from '../scripts/rules-md.js';

describe('RULES.md', () => {
  it('is in sync with the rule records (run `npm run docs:rules`)', () => {
    expect(readFileSync(new URL('../RULES.md', import.meta.url), 'utf8')).toBe(renderRulesMarkdown());
  });
  it('every rule has a stable kebab-case id, a cause, an example and a fix', () => {
    for (const r of RULES) {
      expect(r.id).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(r.explanation.length).toBeGreaterThan(40);
      expect(r.example.length).toBeGreaterThan(10);
      expect(r.fix.length).toBeGreaterThan(10);
    }
  });
});
