/** Time options (`--at`, `--since`, `--until`): ISO dates or date-times, normalized to UTC ISO 8601. */
import { UsageError } from '../errors.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A date alone stands for its first millisecond (`start`, for --since) or its last (`end`, for
 * --at and --until: "as it was on that day" includes the day's runs).
 */
export function parseTimeOption(flag: string, text: string, dateMeans: 'start' | 'end'): string {
  let t = NaN;
  if (DATE.test(text)) t = Date.parse(`${text}T${dateMeans === 'start' ? '00:00:00.000' : '23:59:59.999'}Z`);
  else if (DATE_TIME.test(text)) t = Date.parse(text);
  if (Number.isNaN(t)) {
    throw new UsageError(
      `${flag} ${JSON.stringify(text)}: expected an ISO date (2026-03-01) or date-time with a zone (2026-03-01T06:00:00Z)`,
    );
  }
  return new Date(t).toISOString();
}
