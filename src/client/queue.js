/*
 * The offline queue (DESIGN.md §14), shared by the page (app.js) and the service worker (worker.js).
 * A request filed without signal is a draft in IndexedDB: the form's fields, its Idempotency-Key,
 * the account that filed it. flush() sends the drafts oldest first with a CSRF token
 * asked for at that moment (never the form's, whose session may be gone), only as the account that
 * filed them, and records each outcome: sent (a link) or refused (the reason; the draft stays).
 * A send that may have reached the server is repeated with the same key, so it is never done twice.
 */
(() => {
  const channel = self.BroadcastChannel ? new BroadcastChannel('drafts') : null;
  let db;
  const open = () =>
    (db ??= new Promise((resolve, reject) => {
      const req = indexedDB.open('cable-ticketing', 1);
      req.onupgradeneeded = () => {
        req.result.createObjectStore('drafts', { keyPath: 'key' });
        req.result.createObjectStore('meta');
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    }));
  /** One transaction on `store`: `use` makes the request whose result the promise gives. */
  const run = async (store, mode, use) => {
    const t = (await open()).transaction(store, mode);
    const req = use(t.objectStore(store));
    return new Promise((resolve, reject) => {
      t.oncomplete = () => resolve(req.result);
      t.onerror = t.onabort = () => reject(t.error);
    });
  };

  const Q = {
    /** Called when drafts change here; other tabs and the worker hear it through the channel. */
    onChange: () => {},
    all: async () => (await run('drafts', 'readonly', (s) => s.getAll())).sort((a, b) => a.queuedAt - b.queuedAt),
    get: (key) => run('drafts', 'readonly', (s) => s.get(key)),
    put: (draft) => run('drafts', 'readwrite', (s) => s.put(draft)).then(changed),
    remove: (key) => run('drafts', 'readwrite', (s) => s.delete(key)).then(changed),
    /** The account the pages on this phone were last made for ({id, name}, or null when signed out). */
    me: () => run('meta', 'readonly', (s) => s.get('me')),
    setMe: (user) => run('meta', 'readwrite', (s) => s.put(user, 'me')),
    /** Queues a form's fields (`[name, value]` pairs) for `url`, filed by `user`. */
    add(url, fields, user) {
      const key = fields.find(([name]) => name === 'idempotency_key')?.[1] || newKey();
      const kept = fields.filter(([name]) => name !== '_csrf' && name !== 'idempotency_key');
      return Q.put({ key, url, fields: kept, userId: user.id, userName: user.name, queuedAt: Date.now(), state: 'queued' });
    },
    flush: () => (self.navigator.locks ? navigator.locks.request('send-drafts', send) : send()),
  };
  function changed() {
    channel?.postMessage('changed');
    Q.onChange();
  }
  if (channel) channel.onmessage = () => Q.onChange();

  function newKey() {
    if (self.crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  }
  Q.newKey = newKey;

  /** Where a sent request is seen: its page (from Location or the redirect followed). */
  const PAGES = { '/tickets': '/tickets/', '/optics': '/optics/' };
  /** The outcome of one send; undefined when it must be tried again later. */
  async function outcome(res, draft) {
    if (res.ok && res.redirected) return { state: 'sent', link: new URL(res.url).pathname };
    const body = await res.json().catch(() => null);
    if (res.ok) {
      const id = (res.headers.get('Location') || '').split('/').pop();
      return { state: 'sent', link: id ? PAGES[draft.url] + id : undefined };
    }
    // Signed out meanwhile, rate limited, the server failing, or this key still running: later.
    if (res.status === 401 || res.status === 429 || res.status >= 500 || (res.status === 409 && res.headers.has('Retry-After')))
      return;
    // Each field's sentence, named as a person reads it ("item 1 cable type: is required").
    const fields = Object.entries(body?.fields || {}).map(
      ([name, text]) =>
        `${name
          .replace(/^items\.(\d+)\./, (_, i) => `item ${Number(i) + 1} `)
          .replace(/_id$/, '')
          .replace(/_/g, ' ')}: ${text}`,
    );
    const reason = fields.length ? fields.join('; ') : body?.error || `the server answered ${res.status}`;
    return { state: 'refused', reason: /[.!?]$/.test(reason) ? reason : `${reason}.` };
  }

  /** Sends what is queued, oldest first; stops at the first send that cannot be made now. */
  async function send() {
    const waiting = (await Q.all()).filter((d) => d.state === 'queued' || d.state === 'sending');
    if (!waiting.length) return 'done';
    let session;
    try {
      const res = await fetch('/api/session', { headers: { Accept: 'application/json' }, cache: 'no-store' });
      if (!res.ok) return res.status === 401 ? 'signed out' : 'later';
      session = await res.json();
    } catch {
      return 'offline';
    }
    for (const draft of waiting) {
      // Another account's drafts wait for it to sign in again on this phone.
      if (draft.userId !== session.user.id) continue;
      await Q.put({ ...draft, state: 'sending' });
      let result;
      try {
        const res = await fetch(draft.url, {
          method: 'POST',
          headers: {
            Accept: 'application/json',
            'Idempotency-Key': draft.key,
            'X-CSRF-Token': session.csrf_token,
          },
          body: new URLSearchParams(draft.fields),
        });
        result = await outcome(res, draft);
      } catch {
        await Q.put({ ...draft, state: 'queued' });
        return 'offline';
      }
      await Q.put({ ...draft, ...(result || { state: 'queued' }), triedAt: Date.now() });
      if (!result) return 'later';
    }
    return 'done';
  }

  self.FieldQueue = Q;
})();
