/**
 * Headless Chromium (Debian's `chromium`) for rendering tests: a screenshot of a local file and
 * everything the page wrote to its console (Chromium logs console messages, script errors and
 * blocked loads as `CONSOLE` lines on stderr).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const CHROMIUM = process.env.LABELGUARD_CHROMIUM ?? '/usr/bin/chromium';

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

export interface Rendered {
  readonly png: Buffer;
  /** The page's console output, one message per entry. */
  readonly console: readonly string[];
}

export async function renderInChromium(file: string, size = { width: 1100, height: 1600 }): Promise<Rendered> {
  const work = await mkdtemp(join(tmpdir(), 'labelguard-chromium-'));
  const screenshot = join(work, 'shot.png');
  try {
    const child = spawn(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--hide-scrollbars',
        '--enable-logging=stderr',
        '--v=0',
        `--user-data-dir=${join(work, 'profile')}`,
        `--window-size=${size.width},${size.height}`,
        `--screenshot=${screenshot}`,
        pathToFileURL(file).href,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    if (code !== 0 || !existsSync(screenshot)) throw new Error(`chromium exited ${code}:\n${stderr.slice(-2000)}`);
    const console = [...stderr.matchAll(/:CONSOLE[^\]]*\] (.*)$/gm)].map((m) => m[1]!);
    return { png: await readFile(screenshot), console };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
