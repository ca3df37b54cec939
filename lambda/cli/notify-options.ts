/**
 * Slack for `labelguard scan`: the `--slack-channel` and `--slack-dry-run` options, what they and
 * the config's `notify.slack` section mean together, and the notification deps built from them.
 * The token comes from `SLACK_BOT_TOKEN`, the API base from `SLACK_API_URL` or `notify.slack.apiUrl`.
 * The Slack SDK is imported only when something is going to be posted.
 */
import type { Command } from 'commander';
import type { Config } from '../config.js';
import { UsageError } from '../errors.js';
import type { DryRunCall, NotifyDeps, NotifyScanResult } from '../notify/deliver.js';
import type { Outbox } from '../notify/ports.js';
import { hasDestination, notifySettingsOf, type NotifySettings } from '../notify/settings.js';
import type { Clock, Logger } from '../ports.js';

export interface SlackCliOptions {
  /** --slack-channel */
  readonly slackChannel?: string;
  /** --slack-dry-run */
  readonly slackDryRun?: boolean;
}

/** Adds the Slack options to a command (`scan`). */
export function addSlackOptions(command: Command): Command {
  return command
    .option(
      '--slack-channel <channel>',
      'post the Slack digest to this channel ID or #name (default: notify.slack.channel)',
    )
    .option(
      '--slack-dry-run',
      'print the Slack Block Kit JSON to stderr instead of posting (nothing is recorded or sent)',
    );
}

export interface SlackSetup {
  readonly settings: NotifySettings;
  readonly dryRun: boolean;
  /** The bot token (null for a dry run). */
  readonly token: string | null;
  readonly apiUrl: string | undefined;
  readonly timeoutMs: number;
}

const CHANNEL_RE = /^(#?[a-z0-9][a-z0-9._-]{0,79}|[CGD][A-Z0-9]{6,})$/;

/**
 * What `scan` does with Slack, or null when it does nothing (no `notify.slack`, no Slack option,
 * or a configuration without `SLACK_BOT_TOKEN`, which is then said once through `warn`).
 */
export function slackSetupOf(
  config: Config,
  opts: SlackCliOptions,
  env: Readonly<Record<string, string | undefined>>,
  warn: (message: string) => void = () => undefined,
): SlackSetup | null {
  const slack = config.notify.slack;
  const asked = opts.slackChannel !== undefined || opts.slackDryRun === true;
  if (slack === undefined && !asked) return null;
  if (opts.slackChannel !== undefined && !CHANNEL_RE.test(opts.slackChannel)) {
    throw new UsageError(
      `--slack-channel ${JSON.stringify(opts.slackChannel)}: expected a channel ID (C0123ABCD) or name (#security)`,
    );
  }
  const settings = notifySettingsOf(slack, opts.slackChannel === undefined ? {} : { channel: opts.slackChannel });
  if (!hasDestination(settings)) {
    throw new UsageError(
      'Slack: no channel to post to: give --slack-channel, or notify.slack.channel or routes in the config',
    );
  }
  const common = {
    settings,
    apiUrl: env.SLACK_API_URL ?? slack?.apiUrl,
    timeoutMs: slack?.timeoutMs ?? 10_000,
  };
  if (opts.slackDryRun === true) return { ...common, dryRun: true, token: null };
  const token = env.SLACK_BOT_TOKEN?.trim();
  if (!token) {
    if (opts.slackChannel !== undefined) {
      throw new UsageError(
        '--slack-channel needs the bot token in SLACK_BOT_TOKEN (or use --slack-dry-run to see the message)',
      );
    }
    warn('notify.slack is configured but SLACK_BOT_TOKEN is not set: nothing is sent to Slack');
    return null;
  }
  return { ...common, dryRun: false, token };
}

/** The notification deps for a scan: the real Slack notifier, or none for a dry run. */
export async function slackNotifyDeps(
  setup: SlackSetup,
  deps: { readonly outbox: Outbox; readonly clock: Clock; readonly logger: Logger },
): Promise<NotifyDeps> {
  const { slackRenderer } = await import('../adapters/slack/format.js');
  if (setup.dryRun || setup.token === null) {
    return { ...deps, notifier: null, render: slackRenderer, settings: setup.settings };
  }
  const { createSlackClient, createSlackNotifier, staticToken } = await import('../adapters/slack/notifier.js');
  const client = createSlackClient({
    timeoutMs: setup.timeoutMs,
    logger: deps.logger,
    ...(setup.apiUrl === undefined ? {} : { apiUrl: setup.apiUrl }),
  });
  return {
    ...deps,
    notifier: createSlackNotifier({ client, token: staticToken(setup.token) }),
    render: slackRenderer,
    settings: setup.settings,
  };
}

/** A dry run's calls as the JSON printed: one Web API call each, Block Kit as Slack takes it. */
export function formatDryRun(calls: readonly DryRunCall[]): string {
  return `${JSON.stringify(
    calls.map((c) => ({
      method: c.method,
      cluster: c.cluster,
      runId: c.runId,
      id: c.id,
      channel: c.channel,
      ...(c.parent === null ? {} : { [c.method === 'chat.update' ? 'updates' : 'thread_of']: c.parent }),
      text: c.text,
      blocks: c.blocks,
    })),
    null,
    2,
  )}\n`;
}

/** The `notify` part of `scan --format json`: every run's outbox state, the delivery, and dry-run calls. */
export function notifyReportOf(result: NotifyScanResult): Record<string, unknown> {
  return {
    slack: {
      runs: result.runs,
      delivery: result.delivery,
      ...(result.dryRun.length > 0 ? { dryRun: result.dryRun } : {}),
    },
  };
}
