import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { projectRoot } from '../../src/paths.ts';
import { PASSWORD } from './factories.ts';

/**
 * Real-browser helpers: Debian's Chromium driven by playwright-core (no downloaded browser builds),
 * a watcher that records console errors, page errors and CSP violations, axe-core, and screenshots.
 */

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const PHONE = { width: 390, height: 844 };
export const screenshotDir = path.join(projectRoot, 'test-results');

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors, uncaught page errors and CSP violations seen so far, one sentence each. */
  problems: string[];
  close(): Promise<void>;
}

/**
 * A page in its own context (its own cookies) at a phone viewport. The context keeps the app's CSP
 * in force (no `bypassCSP`): a CSP violation is exactly what the watcher is there to catch.
 */
export async function openPage(browser: Browser, viewport = PHONE): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, isMobile: false, hasTouch: true });
  const problems: string[] = [];
  // A binding survives navigations; the init script (installed through DevTools, so the page's CSP does
  // not apply to it) forwards every `securitypolicyviolation` event of every document to it.
  await context.exposeBinding('__reportCspViolation', (_source, text: string) => {
    problems.push(`CSP violation: ${text}`);
  });
  // (Page-side code is written as strings: the project's TypeScript has no DOM types.)
  await context.addInitScript(`document.addEventListener('securitypolicyviolation', (e) => {
    window.__reportCspViolation(
      e.violatedDirective + ' blocked ' + (e.blockedURI || '(inline)') + ' at ' + (e.sourceFile || e.documentURI) + ':' + e.lineNumber,
    );
  });`);
  const page = await context.newPage();
  page.on('console', (msg) => {
    const text = msg.text();
    if (msg.type() === 'error') problems.push(`console error on ${page.url()}: ${text}`);
    else if (/Content Security Policy/i.test(text)) problems.push(`CSP message on ${page.url()}: ${text}`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught error on ${page.url()}: ${err.message}`));
  return { page, context, problems, close: () => context.close() };
}

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeFinding {
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

/**
 * Runs axe-core in the page and returns the serious and critical violations.
 *
 * The app's CSP is `script-src 'self'`, so `page.addScriptTag({content})` (an inline <script>) is refused.
 * `page.evaluate(source)` runs through the DevTools protocol, which the page's CSP does not govern, so
 * axe is installed that way and the page keeps its real policy (no `bypassCSP` context, which would
 * also hide the violations this suite looks for).
 */
export async function axeViolations(page: Page): Promise<AxeFinding[]> {
  const installed = await page.evaluate('typeof window.axe === "object"');
  if (!installed) await page.evaluate(axeSource);
  const results = (await page.evaluate(`axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    resultTypes: ['violations'],
  })`)) as { violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[] }> }> };
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact ?? '', help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
}

/** A full-page PNG in test-results/ (gitignored); returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name}.png`);
  // caret: 'initial' keeps playwright from leaving style="" on inputs, which htmx would copy into
  // swapped elements and the CSP would then (rightly) report as an inline style.
  await page.screenshot({ path: file, fullPage: true, caret: 'initial' });
  return file;
}

/** How wide the document is, to catch horizontal overflow on narrow phones. */
export function documentScrollWidth(page: Page): Promise<number> {
  return page.evaluate('document.documentElement.scrollWidth') as Promise<number>;
}

/** Signs in through the form, as a person would, and waits for the dashboard. */
export async function signIn(page: Page, baseUrl: string, login: string, password = PASSWORD): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Username or email').fill(login);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${baseUrl}/`);
}

/** A screenshot (`<prefix>-<name>.png`), no serious or critical axe finding, and no sideways scroll on a phone. */
export async function inspectPage(t: ExecutionContext, page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  t.deepEqual(await axeViolations(page), [], `axe on ${name}`);
  t.true((await documentScrollWidth(page)) <= PHONE.width, `${name} fits a ${PHONE.width} px phone`);
}
