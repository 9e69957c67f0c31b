/*
 * The service worker (DESIGN.md §14), loaded by /sw.js after its settings (self.FIELD: version,
 * precache list, the drafts page). It keeps the app's files and the drafts page (its offline page too)
 * from its install, answers pages from the network first, keeps a copy of the pages worth reading offline
 * (the request lists, the forms) and shows that copy, marked with its time, when the network fails
 * or is slower than NETWORK_WAIT_MS. A form post to /tickets or /optics that cannot reach the server
 * is queued (queue.js) instead of lost. A new version keeps its own files, fetches the saved
 * pages again and deletes the old caches, so no page or stylesheet of the old version is served.
 */
const { version, precache, drafts } = self.FIELD;
const STATIC = `static-${version}`;
const PAGES = `pages-${version}`;
const NETWORK_WAIT_MS = 4000;
const QUEUED_FORMS = ['/tickets', '/optics'];
/** Pages kept for offline reading; a draft being edited (?draft=) opens its form's copy. */
function savedKey(url) {
  const search = url.search.startsWith('?draft=') ? '' : url.search;
  if (url.pathname === '/' && (search === '' || search === '?filter=mine')) return `/${search}`;
  if ((url.pathname === '/tickets/new' || url.pathname === '/optics') && search === '') return url.pathname;
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(STATIC)
      // The drafts page is kept as anyone would see it (no cookie): it names no account.
      .then((cache) =>
        cache.addAll(
          precache.map((url) => new Request(url, { credentials: url.startsWith('/assets/') ? 'same-origin' : 'omit' })),
        ),
      )
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      await self.registration.navigationPreload?.enable();
      const names = await caches.keys();
      // Saved pages of an old version name its files: each is fetched again from this one, or dropped.
      for (const name of names.filter((n) => n.startsWith('pages-') && n !== PAGES)) {
        for (const req of await (await caches.open(name)).keys()) {
          const res = await fetch(req.url).catch(() => null);
          if (res?.ok && !res.redirected) await keep(new URL(req.url).pathname + new URL(req.url).search, res);
        }
      }
      await Promise.all(names.filter((n) => n !== STATIC && n !== PAGES).map((n) => caches.delete(n)));
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (url.origin !== location.origin) return;
  if (req.mode === 'navigate' && req.method === 'POST') event.respondWith(formPost(req, url));
  else if (req.method !== 'GET') return;
  else if (url.pathname.startsWith('/assets/')) event.respondWith(caches.match(req).then((hit) => hit || fetch(req)));
  else if (req.mode === 'navigate') event.respondWith(page(event, url));
});

self.addEventListener('sync', (event) => {
  if (event.tag === 'send-drafts') {
    event.waitUntil(
      FieldQueue.flush().then((result) => {
        if (result === 'offline') throw new Error('Still offline: the browser tries again later.');
      }),
    );
  }
});

/** Keeps a copy of a page (a response of its own) with the time it was saved. */
async function keep(key, res) {
  const headers = new Headers({ 'x-saved-at': new Date().toISOString() });
  for (const name of [
    'content-type',
    'content-security-policy',
    'x-content-type-options',
    'referrer-policy',
    'x-frame-options',
  ]) {
    if (res.headers.has(name)) headers.set(name, res.headers.get(name));
  }
  await (await caches.open(PAGES)).put(key, new Response(await res.text(), { headers }));
}

/** `res` (a kept page) with a line at the top of its main part. */
async function withNote(res, note) {
  const line = `<p class="flash info saved-copy" role="status">${note}</p>`;
  return new Response((await res.text()).replace('<main id="main">', `<main id="main">${line}`), { headers: res.headers });
}

/** The saved copy of a page, saying when it was saved. */
async function savedCopy(key) {
  const hit = await caches.match(key, { cacheName: PAGES });
  const at = `${hit?.headers.get('x-saved-at').slice(0, 16).replace('T', ' ')} UTC`;
  return hit && withNote(hit, `Saved at ${at}: there is no connection (or a very slow one), so this is the page as it was then.`);
}

/** Without a connection and without a copy: the drafts page, which lists the pages saved here. */
async function offlinePage(url) {
  const page = await caches.match(drafts, { cacheName: STATIC });
  if (!page || url.pathname === drafts) return page || Response.error();
  return withNote(page, 'There is no connection, and that page is not saved on this phone.');
}

/** A page: the network first; a saved copy when it fails or is slow; the drafts page without one. */
async function page(event, url) {
  const key = savedKey(url);
  const network = (async () => {
    const res = (await event.preloadResponse) || (await fetch(event.request));
    // Only the plain page is saved (not ?draft=), and only a real answer (not a sign-in redirect).
    if (key && key === url.pathname + url.search && res.ok && res.type === 'basic' && !res.redirected) {
      event.waitUntil(keep(key, res.clone()));
    }
    return res;
  })();
  event.waitUntil(network.catch(() => {}));
  const copy = () => (key ? savedCopy(key) : undefined);
  try {
    if (!key) return await network;
    const first = await Promise.race([network, new Promise((resolve) => setTimeout(resolve, NETWORK_WAIT_MS))]);
    return first || (await copy()) || (await network);
  } catch {
    return (await copy()) || offlinePage(url);
  }
}

/**
 * A form sent without JavaScript's help (or as the signal dropped). Signing in or out forgets the
 * saved pages (they were another session's). A request or optics form that cannot reach the server is
 * queued for the account the pages were made for, with the form's Idempotency-Key: if it did reach the
 * server, the resend gets the first answer back.
 */
async function formPost(req, url) {
  if (/^\/(login|logout|register)$/.test(url.pathname)) await caches.delete(PAGES);
  const copy = QUEUED_FORMS.includes(url.pathname) ? req.clone() : null;
  try {
    return await fetch(req);
  } catch {
    const user = copy && (await FieldQueue.me());
    if (user) {
      const fields = [...(await copy.formData())].filter(([, value]) => typeof value === 'string');
      await FieldQueue.add(url.pathname, fields, user);
      return Response.redirect(`${drafts}?queued=1`, 303);
    }
    return Response.redirect(`${drafts}?unsent=1`, 303);
  }
}
