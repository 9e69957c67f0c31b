import type { Assets } from '../../http/assets.ts';

/** The header's colour (public/app.css `.top`): the installed app's title bar matches it. */
export const THEME_COLOR = '#0d2b4a';

/**
 * The web app manifest (`/manifest.webmanifest`): what Chromium needs to offer "Install" (a name, a
 * start URL in scope, `display: standalone`, a 192 and a 512 px icon) and iOS's home screen reads.
 * Icons are public/icon*.png (scripts/make-icons.ts) and the SVG, under their fingerprinted names.
 */
export function webAppManifest(assets: Assets) {
  return {
    id: '/',
    name: 'Cable Ticketing',
    short_name: 'Cables',
    description: 'Cable requests from the field: file them with or without signal.',
    start_url: '/',
    scope: '/',
    display: 'standalone',
    orientation: 'portrait',
    background_color: '#f6f8fa',
    theme_color: THEME_COLOR,
    icons: [
      { src: assets.url('icon-192.png'), sizes: '192x192', type: 'image/png', purpose: 'any' },
      { src: assets.url('icon-512.png'), sizes: '512x512', type: 'image/png', purpose: 'any' },
      { src: assets.url('icon-maskable-512.png'), sizes: '512x512', type: 'image/png', purpose: 'maskable' },
      { src: assets.url('icon.svg'), sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
    ],
  };
}
