/** Renders RULES.md from the rule records (`npm run docs:rules`); a test keeps the file in sync. */
import { writeFile } from 'node:fs/promises';
import { RULES } from '../lambda/audit/index.js';

export function renderRulesMarkdown(): string {
  const lines = [
    '# labelguard rules',
    '',
    'Every finding names one of these rules. Ids are stable: a changed id is a breaking change.',
    'Severities are defaults; `severities:` in `labelguard.config.yaml` overrides them per rule, and',
    '`requiredLabels[].severity` per label.',
    '',
    '| id | severity | summary |',
    '| --- | --- | --- |',
    ...RULES.map((r) => `| [\`${r.id}\`](#${r.id}) | ${r.severity} | ${r.summary.replace(/\|/g, '\\|')} |`),
    '',
  ];
  for (const r of RULES) {
    lines.push(
      `## ${r.id}`,
      '',
      `**Severity:** ${r.severity}`,
      '',
      `**Cause.** ${r.explanation}`,
      '',
      '**Example.**',
      '',
      '```text',
      r.example,
      '```',
      '',
      `**Fix.** ${r.fix}`,
      '',
    );
  }
  return lines.join('\n');
}

if (process.argv[1]?.endsWith('rules-md.ts'))
  await writeFile(new URL('../RULES.md', import.meta.url), renderRulesMarkdown());
