import test from 'ava';
import type { Browser } from 'playwright-core';
import { axeViolations, launchBrowser, openPage } from '../support/browser.ts';

// The journeys assert "no problems" and "no axe findings"; this shows those checks can fail.

let browser: Browser;
test.before(async () => {
  browser = await launchBrowser();
});
test.after.always(async () => {
  await browser?.close();
});

const BAD_PAGE = `<!doctype html><html lang="en"><head><title>bad</title><script src="/boom.js"></script></head>
<body><main><img src="/x.svg"><input type="text"><script>document.title = 'inline ran'</script></main></body></html>`;

test('the watcher reports CSP violations, console errors and page errors, and axe finds serious problems', async (t) => {
  const { page, problems, close } = await openPage(browser);
  try {
    await page.route('http://harness.test/**', (route) => {
      const url = new URL(route.request().url());
      if (url.pathname === '/boom.js')
        return route.fulfill({ contentType: 'text/javascript', body: "console.error('boom'); throw new Error('kaboom');" });
      if (url.pathname === '/x.svg')
        return route.fulfill({ contentType: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg"/>' });
      return route.fulfill({
        contentType: 'text/html',
        headers: { 'Content-Security-Policy': "script-src 'self'" },
        body: BAD_PAGE,
      });
    });
    await page.goto('http://harness.test/');
    t.is(await page.title(), 'bad', 'the inline script was blocked');
    const ids = (await axeViolations(page)).map((v) => v.id);
    t.true(ids.includes('image-alt'), ids.join(', '));
    t.true(ids.includes('label'), ids.join(', '));
    t.true(
      problems.some((p) => p.startsWith('CSP violation: script-src')),
      problems.join('\n'),
    );
    t.true(
      problems.some((p) => p.includes('console error') && p.includes('boom')),
      problems.join('\n'),
    );
    t.true(
      problems.some((p) => p.includes('uncaught error') && p.includes('kaboom')),
      problems.join('\n'),
    );
  } finally {
    await close();
  }
});
