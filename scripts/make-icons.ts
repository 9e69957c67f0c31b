import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { publicDir } from '../src/paths.ts';

/**
 * `npx tsx scripts/make-icons.ts`: the PNG icons of the web app manifest, drawn from public/icon.svg by
 * Chromium (the browser the tests use), written into public/ and committed. Run it again when the
 * SVG changes; test/field-mode.test.ts checks each PNG's size against the manifest.
 *   icon-192.png, icon-512.png: the SVG as it is ("any": rounded corners on a transparent ground);
 *   icon-maskable-512.png: the glyph in the middle 60 % of a full dark square ("maskable": launchers
 *   cut it to their own shape, and keep the middle 80 %).
 */
const svg = readFileSync(path.join(publicDir, 'icon.svg'), 'utf8');
const glyph = svg.replace(/<title>.*?<\/title>/, '').replace(/<rect[^>]*\/>/, '');
const maskable = glyph.replace(
  /<svg([^>]*)viewBox="0 0 32 32"([^>]*)>/,
  '<svg$1viewBox="-10.67 -10.67 53.33 53.33"$2><rect x="-10.67" y="-10.67" width="53.33" height="53.33" fill="#0d2b4a"/>',
);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
try {
  const page = await browser.newPage({ deviceScaleFactor: 1 });
  for (const [name, source, size] of [
    ['icon-192.png', svg, 192],
    ['icon-512.png', svg, 512],
    ['icon-maskable-512.png', maskable, 512],
  ] as const) {
    await page.setViewportSize({ width: size, height: size });
    const sized = source.replace('<svg ', `<svg width="${size}" height="${size}" `);
    await page.setContent(`<!doctype html><html><body style="margin:0">${sized}</body></html>`);
    const png = await page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } });
    writeFileSync(path.join(publicDir, name), png);
    console.log(`public/${name}: ${size}x${size}, ${png.length} bytes`);
  }
} finally {
  await browser.close();
}
