// Runs a command with a Chromium for the browser journeys (`npm run test:browser` runs ava through it),
// passing its path in CHROMIUM_PATH:
//
//     tsx scripts/with-chromium.ts <command> [args...]
//
// The browser is, in this order: CHROMIUM_PATH; /usr/bin/chromium; one playwright-core downloaded
// earlier; else one installed now: as root on Debian/Ubuntu `apt-get install chromium`, otherwise
// (or when apt fails) playwright-core's own download. It must start (a headless launch) before the
// command runs. When none can be had, this stops with one line saying what to install: the journeys
// never pass by being skipped.
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { commandRunner } from './lib/run-command.ts';

const run = promisify(execFile);
const SYSTEM_CHROMIUM = '/usr/bin/chromium';
const INSTALL_TIMEOUT_MS = 15 * 60_000;

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('Usage: tsx scripts/with-chromium.ts <command> [args...]');
  process.exit(2);
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first line of a failed command's output that says what went wrong. */
function why(err: unknown, pattern: RegExp): string {
  const e = err as { stdout?: string; stderr?: string; message: string; killed?: boolean };
  if (e.killed) return `timed out after ${INSTALL_TIMEOUT_MS / 60_000} min`;
  const lines = `${e.stderr ?? ''}\n${e.stdout ?? ''}`.split('\n').map((l) => l.trim());
  return lines.find((l) => pattern.test(l)) ?? e.message.split('\n')[0] ?? 'failed';
}

/** apt-get, as root on Debian or Ubuntu: Debian's package puts the browser at /usr/bin/chromium. */
async function installWithApt(): Promise<string> {
  console.log('Chromium: installing it with apt-get (chromium)...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const options = { env, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 };
  await run('apt-get', ['update', '-qq'], options);
  await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], options);
  if (!executable(SYSTEM_CHROMIUM)) throw new Error(`the chromium package did not install ${SYSTEM_CHROMIUM}`);
  return SYSTEM_CHROMIUM;
}

/** playwright-core's own download (Chrome for Testing, into its cache folder, ~/.cache/ms-playwright on Linux). */
async function installWithPlaywright(): Promise<string> {
  console.log('Chromium: downloading it with playwright-core (playwright-core install --no-shell chromium)...');
  const cli = path.join(path.dirname(createRequire(import.meta.url).resolve('playwright-core/package.json')), 'cli.js');
  await run(process.execPath, [cli, 'install', '--no-shell', 'chromium'], {
    timeout: INSTALL_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  const downloaded = chromium.executablePath();
  if (!executable(downloaded)) throw new Error(`playwright-core reported success but ${downloaded} is missing`);
  return downloaded;
}

async function findChromium(): Promise<string> {
  const wanted = process.env.CHROMIUM_PATH || SYSTEM_CHROMIUM;
  if (executable(wanted)) return wanted;
  if (executable(SYSTEM_CHROMIUM)) {
    console.log(`Chromium: CHROMIUM_PATH=${wanted} is not an executable file; using ${SYSTEM_CHROMIUM}.`);
    return SYSTEM_CHROMIUM;
  }
  if (executable(chromium.executablePath())) return chromium.executablePath();

  const failures: string[] = [];
  const debian = existsSync('/etc/debian_version');
  if (process.getuid?.() === 0 && debian) {
    try {
      return await installWithApt();
    } catch (err) {
      failures.push(`apt-get install chromium failed (${why(err, /^(E|Err):/)})`);
    }
  }
  try {
    return await installWithPlaywright();
  } catch (err) {
    failures.push(`playwright-core could not download one (${why(err, /^Error: (?!Failed to download|Download failure)/)})`);
  }
  const missing = wanted === SYSTEM_CHROMIUM ? SYSTEM_CHROMIUM : `${wanted} (CHROMIUM_PATH) or ${SYSTEM_CHROMIUM}`;
  const install = debian ? "install Debian/Ubuntu's chromium as root (apt-get install chromium)" : 'install Chromium or Chrome';
  throw new Error(
    `No Chromium for the browser journeys: none at ${missing}; ${failures.join('; ')}. ` +
      `To fix: ${install}, or run npx playwright-core install chromium where cdn.playwright.dev is reachable, or set CHROMIUM_PATH to a Chromium binary.`,
  );
}

let chromiumPath: string;
try {
  chromiumPath = await findChromium();
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
try {
  // A headless launch, with the journeys' sandbox setting: a browser that is there but cannot start
  // (missing libraries) is found here, in one line, rather than in every journey.
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
  console.log(`Chromium: ${chromiumPath} (${browser.version()}).`);
  await browser.close();
} catch (err) {
  const reason = (err as Error).message.split('\n').find((l) => l.trim() && !l.includes('Failed to launch')) ?? 'failed';
  console.error(
    `Chromium at ${chromiumPath} does not start (${reason.trim()}): install its libraries ` +
      '(Debian/Ubuntu as root: apt-get install chromium, or npx playwright-core install-deps chromium) or set CHROMIUM_PATH to another.',
  );
  process.exit(1);
}
// From here on, Ctrl-C and SIGTERM go to the journeys, and this process exits with their code.
const runner = commandRunner();
process.exit(await runner.run(command, args, { CHROMIUM_PATH: chromiumPath }));
