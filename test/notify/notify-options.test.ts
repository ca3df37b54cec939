import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addSlackOptions, formatDryRun, slackSetupOf } from '../../lambda/cli/notify-options.js';
import { parseConfig, type Config } from '../../lambda/config.js';
import { UsageError } from '../../lambda/errors.js';

function config(raw: unknown): Config {
  const result = parseConfig(raw);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.config;
}

describe('the Slack options of scan', () => {
  it('parses --slack-channel and --slack-dry-run', () => {
    const cmd = addSlackOptions(new Command('scan').exitOverride());
    cmd.parse(['--slack-channel', '#security', '--slack-dry-run'], { from: 'user' });
    expect(cmd.opts()).toEqual({ slackChannel: '#security', slackDryRun: true });
  });

  it('does nothing without notify.slack or a Slack option', () => {
    expect(slackSetupOf(config({}), {}, { SLACK_BOT_TOKEN: 'xoxb-1' })).toBeNull();
  });

  it('takes the channel from the option over the config, the token and API URL from the environment', () => {
    const setup = slackSetupOf(
      config({
        notify: {
          slack: { channel: '#security', apiUrl: 'http://127.0.0.1:1/api/', timeoutMs: 5_000, pacingMs: 2_000 },
        },
      }),
      { slackChannel: 'C0OVERRIDE' },
      { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_API_URL: 'http://127.0.0.1:2/api/' },
    );
    expect(setup).toMatchObject({
      dryRun: false,
      token: 'xoxb-1',
      apiUrl: 'http://127.0.0.1:2/api/',
      timeoutMs: 5_000,
    });
    expect(setup?.settings).toMatchObject({ channel: 'C0OVERRIDE', delivery: { pacingMs: 2_000 } });
  });

  it('needs no token for a dry run, but somewhere to post', () => {
    expect(slackSetupOf(config({}), { slackDryRun: true, slackChannel: '#x' }, {})).toMatchObject({
      dryRun: true,
      token: null,
    });
    expect(() => slackSetupOf(config({}), { slackDryRun: true }, {})).toThrow(UsageError);
  });

  it('says once that a configured Slack has no token, and sends nothing', () => {
    const warnings: string[] = [];
    expect(
      slackSetupOf(config({ notify: { slack: { channel: '#security' } } }), {}, {}, (w) => warnings.push(w)),
    ).toBeNull();
    expect(warnings).toEqual(['notify.slack is configured but SLACK_BOT_TOKEN is not set: nothing is sent to Slack']);
    expect(() => slackSetupOf(config({}), { slackChannel: '#security' }, {})).toThrow(/SLACK_BOT_TOKEN/);
  });

  it('rejects a channel that is neither an ID nor a name', () => {
    expect(() => slackSetupOf(config({}), { slackChannel: 'Security Team' }, { SLACK_BOT_TOKEN: 'x' })).toThrow(
      /expected a channel ID/,
    );
  });

  it('prints dry-run calls as Slack Web API calls', () => {
    const text = formatDryRun([
      {
        method: 'chat.postMessage',
        cluster: 'c',
        runId: 'r',
        id: 'r#0002',
        role: 'followup',
        channel: '#s',
        parent: 'r#0001',
        text: 't',
        blocks: [],
      },
    ]);
    expect(JSON.parse(text)).toEqual([
      {
        method: 'chat.postMessage',
        cluster: 'c',
        runId: 'r',
        id: 'r#0002',
        channel: '#s',
        thread_of: 'r#0001',
        text: 't',
        blocks: [],
      },
    ]);
  });
});

describe('the notify.slack config section', () => {
  it('takes routes, mentions and delivery settings', () => {
    expect(
      config({
        notify: {
          slack: {
            channel: 'C0123ABCD',
            tokenSecretId: 'labelguard/slack',
            routes: [
              {
                match: { cluster: 'prod-*', rule: 'label-*', minSeverity: 'high' },
                channel: '#sec-prod',
                mention: '<!subteam^S0SECOPS|secops>',
              },
              { channel: '#everything-else' },
            ],
          },
        },
      }).notify.slack?.routes,
    ).toEqual([
      {
        match: { cluster: 'prod-*', rule: 'label-*', minSeverity: 'high' },
        channel: '#sec-prod',
        mention: '<!subteam^S0SECOPS|secops>',
      },
      { match: {}, channel: '#everything-else' },
    ]);
  });

  it('names every problem with its path', () => {
    const result = parseConfig({
      notify: {
        slack: {
          channel: 'Security Team',
          routes: [{ match: { rule: 'no-such-rule*', minSeverity: 'urgent' }, channel: '#ok', mention: '@here' }],
          pacingMs: -1,
        },
      },
    });
    expect(result.ok ? [] : result.issues.map((i) => i.path)).toEqual([
      'notify.slack.channel',
      'notify.slack.routes[0].match.rule',
      'notify.slack.routes[0].match.minSeverity',
      'notify.slack.routes[0].mention',
      'notify.slack.pacingMs',
    ]);
  });
});
