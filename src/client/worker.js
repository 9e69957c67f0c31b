/*
 * The service worker (DESIGN.md §14), loaded by /sw.js after its settings (self.FIELD: version,
 * precache list, the drafts page). It keeps the app's files and the drafts page (its offline page
 * too) from its install, and answers pages from the network first. It keeps a copy of the pages worth
 * reading offline (the request lists, the forms) and shows it when the network fails (marked with its
 * time) or is slow (see page()); the request form and the sign-in page come from their copies at
 * once. A form post is sent so that the server answers with the page it leads to, one round trip
 * instead of two (formPost). A form post to /tickets or /optics that cannot reach the server is
 * queued (queue.js) instead of lost. A new version keeps its own files, fetches the saved pages again
 * and deletes the old caches, so no page or stylesheet of the old version is served.
 */
const { version, precache, drafts } = self.FIELD;
const STATIC = `static-${version}`;
const PAGES = `pages-${version}`;
const NETWORK_WAIT_MS = 4000;
/** The request form: how long the network is waited for before its copy, and how old a copy may be. */
const FORM = '/tickets/new';
const FORM_WAIT_MS = 300;
const FORM_FRESH_MS = 3_600_000;
const QUEUED_FORMS = ['/tickets', '/optics'];
/**
 * The sign-in page, kept (with the version's files) and shown from here while the phone is signed
 * out: nothing on it is news, and its CSRF token is bound to a cookie that lasts 30 days from each
 * time the page is made (src/http/csrf.ts), so a copy younger than a day still signs in.
 */
const SIGN_IN = '/login';
const SIGN_IN_FRESH_MS = 86_400_000;
/** Pages kept for offline reading; a draft being edited (?draft=) opens its form's copy. */
function savedKey(url) {
  const search = url.search.startsWith('?draft=') ? '' : url.search;
  if (url.pathname === '/' && (search === '' || search === '?filter=mine')) return `/${search}`;
  if ((url.pathname === FORM || url.pathname === '/optics') && search === '') return url.pathname;
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
      // No navigation preload: most pages on a technician's path come from here (a copy, or the page
      // a post brought back), and a preload would fetch each of them again over the slow link.
      await self.registration.navigationPreload?.disable();
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
        if (result === 'offline') throw new Error('offline'); // the browser tries again later
      }),
    );
  }
});

/**
 * Keeps a copy of a page with the time it was saved (a flash message is for once, not for the copy).
 * A request list carries the request form: the form's page made from it is kept too (formFromList),
 * so the form opens from here at once after the list, with no fetch. Says whether it kept a form.
 */
async function keep(key, res, cache = PAGES) {
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
  const html = (await res.text()).replace(/<p class="flash \w+" role="status">[^<]*<\/p>\n?/, '');
  const store = await caches.open(cache);
  await store.put(key, new Response(html, { headers }));
  const form = cache === PAGES && isList(key) && formFromList(html);
  if (form) await store.put(FORM, new Response(form, { headers }));
  return Boolean(form);
}

const isList = (key) => key === '/' || key.startsWith('/?');

/**
 * The request form's page, made from a request list: the list's "New cable request" holds the form
 * made by the same code for the same session (views/dashboard/page.eta, views/tickets/new.eta), so
 * the page is the list's with another title, no current menu item and the form as its main part.
 * The browser test "the form's copy made from the list" holds it to the server's own page.
 */
function formFromList(html) {
  const form = /<details class="card new-request"[^>]*>\n<summary>[^<]*<\/summary>\n([\s\S]*?)<\/details>/.exec(html)?.[1];
  const main = html.indexOf('<main id="main">');
  if (!form || main < 0) return;
  const head = html
    .slice(0, main)
    .replace(/<title>[^<·]*·/, '<title>New request ·')
    .replace(' aria-current="page"', '');
  return `${head}<main id="main">\n<section class="card">\n<h1>New cable request</h1>\n${form}</section>\n</main>\n</body>\n</html>\n`;
}

/** Fetches a page again and keeps it, when it is a real answer (not a sign-in redirect). */
let loading;
function refresh(key) {
  loading = fetch(key)
    .then((res) => res.ok && !res.redirected && keep(key, res))
    .catch(() => {});
  return loading;
}

/**
 * A kept page as it is served: each of its forms with a new Idempotency-Key (a copy is shown many
 * times; each send needs its own), and a line at the top of its main part when `note` is given.
 */
async function served(res, note) {
  let html = (await res.text()).replace(
    /name="idempotency_key" value="[^"]*"/g,
    () => `name="idempotency_key" value="${FieldQueue.newKey()}"`,
  );
  if (note) html = html.replace('<main id="main">', `<main id="main"><p class="flash info saved-copy" role="status">${note}</p>`);
  return new Response(html, { headers: res.headers });
}

/** The saved copy of a page; `offline`: say when it was saved (it is not merely a fast answer). */
async function savedCopy(key, offline, hit) {
  hit ??= await saved(key);
  if (!hit) return;
  const at = `${hit.headers.get('x-saved-at').slice(0, 16).replace('T', ' ')} UTC`;
  return served(
    hit,
    offline && `Saved at ${at}: there is no connection (or a very slow one), so this is the page as it was then.`,
  );
}

/** Without a connection and without a copy: the drafts page, which lists the pages saved here. */
async function offlinePage(url) {
  const page = await saved(drafts, STATIC);
  if (!page || url.pathname === drafts) return page || Response.error();
  return served(page, 'There is no connection, and that page is not saved on this phone.');
}

/**
 * A page: the network first; its saved copy when the network fails or is slower than the page's wait;
 * the drafts page when there is no copy. The request form's copy is as good as a fresh one (the same
 * session, a new key each time): shown at once while younger than FORM_FRESH_MS, else after
 * FORM_WAIT_MS. A saved list of requests brings the form along, so it can be filled without signal
 * even when it was never opened by itself. A page a form's post brought back (formPost) is shown
 * as it came; the sign-in page is shown from its copy while no one is signed in here.
 */
async function page(event, url) {
  const key = savedKey(url);
  const signIn = url.pathname === SIGN_IN && !url.search;
  if (key === FORM) {
    // A copy younger than FORM_FRESH_MS is shown at once (fetched again behind it when older than a
    // minute); its copy being made from a list, or a fetch of it under way, is waited for first.
    await Promise.race([loading, pause(NETWORK_WAIT_MS)]);
    const hit = await saved(FORM);
    if (!older(hit, FORM_FRESH_MS)) {
      if (older(hit, 6e4)) event.waitUntil(refresh(FORM));
      return savedCopy(FORM, !navigator.onLine, hit);
    }
  }
  if (signIn && !(await FieldQueue.me().catch(() => 1))) {
    const hit = await saved(SIGN_IN, STATIC);
    if (!older(hit, SIGN_IN_FRESH_MS)) return hit;
  }
  // The page a form's post brought back for this address (formPost), if this is its GET.
  const early = handed?.to === url.pathname + url.search && Date.now() - handed.at < 9e3 && handed.res;
  handed = null;
  const network = (async () => {
    const res = early || (await fetch(event.request));
    // The sign-in page itself (not a redirect): no one is signed in here.
    if (signIn && res.ok && !res.redirected)
      event.waitUntil(keep(SIGN_IN, res.clone(), STATIC).then(() => FieldQueue.setMe(null)));
    // Only the plain page is saved (not ?draft=), and only a real answer (not a sign-in redirect).
    if (key && key === url.pathname + url.search && res.ok && res.type === 'basic' && !res.redirected) {
      const kept = keep(key, res.clone());
      // The form opened next waits for the copy made from this list (a list without it fetches it).
      if (isList(key)) loading = kept.then(async (form) => form || !older(await saved(FORM), FORM_FRESH_MS) || refresh(FORM));
      event.waitUntil(isList(key) ? loading : kept);
    }
    // These pages redirect only to sign in: the session is over, and so are its copies.
    if (key && res.type === 'opaqueredirect') event.waitUntil(caches.delete(PAGES));
    return res;
  })();
  event.waitUntil(network.catch(() => {}));
  try {
    if (!key) return await network;
    const wait = key === FORM ? FORM_WAIT_MS : NETWORK_WAIT_MS;
    const first = await Promise.race([network, pause(wait)]);
    return first || (await savedCopy(key, key !== FORM)) || (await network);
  } catch {
    return (await savedCopy(key, true)) || offlinePage(url);
  }
}

const saved = (key, cacheName = PAGES) => caches.match(key, { cacheName });
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** Whether a saved copy is missing or at least `ms` old. */
const older = (hit, ms) => !hit || Date.now() - Date.parse(hit.headers.get('x-saved-at')) >= ms;

/**
 * A form sent without JavaScript's help (or as the signal dropped). Signing in or out forgets the
 * saved pages (they were another session's). A request or optics form that cannot reach the server is
 * queued for the account the pages were made for, with the form's Idempotency-Key: if it did reach the
 * server, the resend gets the first answer back.
 */
let handed;
async function formPost(req, url) {
  // Forgotten while the post is on its way, not before it (it is done before the answer is used).
  const forget = /^\/(login|logout|register)$/.test(url.pathname) && caches.delete(PAGES);
  const copy = QUEUED_FORMS.includes(url.pathname) ? req.clone() : null;
  try {
    // The server answers with the page its 303 names (src/http/follow-redirect.ts): one round trip,
    // not two. The browser is sent there and gets that page from here (page()).
    const headers = new Headers(req.headers);
    headers.set('x-follow-redirect', 1);
    const res = await fetch(url, { method: 'POST', headers, body: await req.blob(), redirect: 'manual' }).finally(() => forget);
    // Its token refused (the cookie it was bound to is gone): the sign-in page's copy is no use any more.
    if (url.pathname === SIGN_IN && res.status === 403) await (await caches.open(STATIC)).delete(SIGN_IN);
    const to = res.status === 200 && res.headers.get('content-location');
    if (!to) return res;
    handed = { to, res, at: Date.now() };
    return Response.redirect(to, 303);
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
