/*
 * The page's script (every page works without it). It installs the service worker (src/client/worker.js),
 * remembers which account the pages are for, keeps a form from being sent twice (its buttons are
 * disabled while it is sent; its Idempotency-Key is in the form from the start), and without a
 * connection queues the request and optics forms on the phone (queue.js): the header counts
 * them, /drafts lists them with their outcome, and they are sent when the connection is back.
 */
(() => {
  const Q = self.FieldQueue;
  const body = document.body;
  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
  const online = () => navigator.onLine;
  const freshKeys = () => {
    for (const input of $$('input[name=idempotency_key]')) input.value = Q.newKey();
  };

  if ('serviceWorker' in navigator) addEventListener('load', () => navigator.serviceWorker.register('/sw.js').catch(() => {}));
  const pageUser = body.dataset.user ? { id: Number(body.dataset.user), name: body.dataset.userName } : null;
  // Without IndexedDB (some private windows) the queue is off; the pages work as without JavaScript.
  const quiet = () => {};
  if (body.dataset.user !== undefined) Q.setMe(pageUser).catch(quiet);
  const whoAmI = async () => pageUser || (body.dataset.user === undefined ? await Q.me() : null);

  // ---- a form is sent once: buttons off while it goes ------------------------------------------
  document.addEventListener('submit', (e) => {
    const form = e.target;
    if (e.defaultPrevented || form.method !== 'post') return;
    if (form.dataset.sending) return e.preventDefault();
    form.dataset.sending = '1';
    // After the event: a disabled button's name and value would be left out of what is sent.
    setTimeout(() => {
      for (const button of $$('button', form)) button.disabled = true;
    });
  });
  addEventListener('pageshow', (e) => {
    if (!e.persisted) return;
    for (const form of $$('form[data-sending]')) {
      delete form.dataset.sending;
      for (const button of $$('button', form)) button.disabled = false;
    }
  });

  // ---- the request and optics forms without a connection -----------------------------------------
  document.addEventListener(
    'submit',
    async (e) => {
      const form = e.target;
      if (!form.matches('form[data-offline]') || (online() && !form.dataset.draft)) return;
      e.preventDefault();
      const user = await whoAmI();
      if (!user) return say(form, 'Sign in first: a request is queued for the account that files it.');
      const fields = [...new FormData(form)].filter(([, value]) => typeof value === 'string');
      if (form.dataset.draft) await Q.remove(form.dataset.draft);
      await Q.add(new URL(form.action).pathname, fields, user);
      navigator.serviceWorker?.ready.then((reg) => reg.sync?.register('send-drafts')).catch(() => {});
      if (form.dataset.draft) return location.assign('/drafts');
      form.reset();
      for (const row of $$('.item-row', form).slice(1)) row.remove();
      freshKeys();
      say(form, 'Queued — sends when you’re back online.');
      if (online()) send();
    },
    true,
  );

  /** A status line above a form. */
  function say(form, text) {
    let line = form.previousElementSibling;
    if (!line?.matches('.queued-note')) {
      line = document.createElement('p');
      line.className = 'flash info queued-note';
      line.setAttribute('role', 'status');
      form.before(line);
    }
    line.textContent = text;
  }

  // "Add another item" and "Remove item" ask the server for rows; without a connection, done here.
  document.addEventListener(
    'click',
    (e) => {
      const button = e.target.closest?.('form[data-offline] button[name=add_item], form[data-offline] button[name=remove_item]');
      if (!button || online()) return;
      e.preventDefault();
      e.stopPropagation();
      if (button.name === 'add_item') addRow(button.form);
      else button.closest('.item-row').remove();
    },
    true,
  );

  /** A blank item row like the last one, numbered after the highest. */
  function addRow(form) {
    const rows = $$('.item-row', form);
    const last = rows[rows.length - 1];
    const n = Math.max(...rows.map((r) => Number(r.id.split('-')[1]))) + 1;
    const row = last.cloneNode(true);
    row.id = `item-${n}`;
    for (const el of $$('*', row)) {
      for (const attr of [...el.attributes]) {
        if (attr.name.startsWith('hx-')) el.removeAttribute(attr.name);
        else if (['id', 'for', 'name', 'aria-describedby'].includes(attr.name)) {
          el.setAttribute(attr.name, attr.value.replace(/^i\d+-/, `i${n}-`).replace(/\[\d+\]/, `[${n}]`));
        }
      }
      if (el.matches('input')) el.value = '';
      el.removeAttribute('aria-invalid');
    }
    for (const el of $$('.field-error', row)) el.remove();
    for (const el of $$('.invalid', row)) el.classList.remove('invalid');
    let remove = $('button[name=remove_item]', row);
    if (!remove) {
      remove = document.createElement('button');
      Object.assign(remove, {
        type: 'submit',
        name: 'remove_item',
        className: 'small',
        formNoValidate: true,
        textContent: 'Remove item',
      });
      row.append(remove);
    }
    remove.value = n;
    last.after(row);
    return row;
  }

  // Optics: "Other" asks the server for its field; without a connection, the page's fallback copy.
  document.addEventListener('change', (e) => {
    if (e.target.name === 'selected_part' && !online()) otherPartField(e.target.form);
  });
  function otherPartField(form) {
    const fallback = $('#other-part noscript', form);
    if (fallback && !form.elements.other_part) fallback.insertAdjacentHTML('afterend', fallback.textContent);
  }

  // ---- editing a draft the server refused: /tickets/new?draft=<key>, /optics?draft=<key> ---------
  const editing = new URLSearchParams(location.search).get('draft');
  const draftForm = $('form[data-offline]');
  if (editing && draftForm) {
    Q.get(editing).then((draft) => {
      if (!draft) return;
      draftForm.dataset.draft = draft.key;
      for (const [name, value] of draft.fields) {
        const row = /^items\[(\d+)\]/.exec(name);
        if (row && !draftForm.elements[name]) addRow(draftForm).id = `item-${row[1]}`;
        if (name === 'other_part') otherPartField(draftForm);
        const field = draftForm.elements[name];
        if (field && 'value' in field) field.value = value;
      }
      say(
        draftForm,
        `Editing a queued request${draft.reason ? ` (refused: ${draft.reason})` : ''}. Sending it replaces the draft.`,
      );
    });
  }

  // ---- the header's count, the drafts page, sending -------------------------------------------------
  async function refresh() {
    const all = await Q.all();
    const link = $('#queued');
    const waiting = all.filter((d) => d.state !== 'sent').length;
    if (link) {
      link.hidden = !waiting;
      link.lastElementChild.textContent = waiting;
    }
    const list = $('#drafts');
    if (!list) return;
    const me = await whoAmI();
    list.replaceChildren(...all.map((d) => draftItem(d, me)));
    $('#drafts-empty').hidden = all.length > 0;
    $('#drafts-send').hidden = !all.some((d) => d.state === 'queued');
  }
  Q.onChange = refresh;

  const el = (tag, text, className) =>
    Object.assign(document.createElement(tag), { textContent: text ?? '', className: className ?? '' });
  const when = (ms) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

  function summary(d) {
    const f = Object.fromEntries(d.fields);
    if (d.url === '/optics') return `Optics: ${f.selected_part === 'Other' ? f.other_part : f.selected_part} × ${f.quantity}`;
    const items = Object.keys(f)
      .filter((k) => /^items\[\d+\]\[cable_type\]$/.test(k))
      .map((k) => {
        const i = /\d+/.exec(k)[0];
        return `${f[k]} ${f[`items[${i}][cable_length]`]} × ${f[`items[${i}][quantity]`] || 1}`;
      });
    return `${f.location || 'No location'}: ${items.join(', ')}`;
  }

  function draftItem(d, me) {
    const li = el('li', '', `draft ${d.state}`);
    li.append(el('strong', summary(d)), el('span', ` · queued ${when(d.queuedAt)}`, 'muted'));
    const line = el('p');
    if (d.state === 'sent') {
      const made = /^\/(tickets|optics)\/(\d+)$/.exec(d.link || '');
      const name = made ? `${made[1] === 'optics' ? 'optics request' : 'request'} #${made[2]}` : 'see the list';
      line.append('Sent: ', Object.assign(el('a', name), { href: d.link || '/' }));
    } else if (d.state === 'refused') {
      line.textContent = `Refused: ${d.reason} The draft is kept: edit it and send it again.`;
    } else if (d.userId !== me?.id) {
      line.textContent = `Kept for ${d.userName}: sent when they sign in again on this phone.`;
    } else {
      line.textContent = d.state === 'sending' ? 'Sending…' : 'Queued — sends when you’re back online.';
    }
    li.append(line);
    const actions = el('p', '', 'actions');
    if (d.state === 'refused') {
      actions.append(
        Object.assign(el('a', 'Edit', 'button'), { href: `${d.url === '/optics' ? '/optics' : '/tickets/new'}?draft=${d.key}` }),
      );
    }
    if (d.state !== 'sending') {
      const drop = el('button', d.state === 'sent' ? 'Dismiss' : 'Delete draft', 'small');
      drop.type = 'button';
      drop.onclick = () => Q.remove(d.key);
      actions.append(drop);
    }
    li.append(actions);
    return li;
  }

  /** What a send that could not finish tells the drafts page (the drafts stay queued either way). */
  const WHY = { offline: 'No connection yet: they stay queued.', 'signed out': 'Sign in to send them.' };
  let sending;
  const send = () =>
    (sending ??= Q.flush()
      .then((result) => {
        const status = $('#drafts-status');
        if (status && WHY[result]) Object.assign(status, { hidden: false, textContent: WHY[result] });
      })
      .catch(quiet)
      .finally(() => (sending = undefined)));
  if ($('#drafts-send')) $('#drafts-send').onclick = send;
  if ($('#drafts-status') && location.search.includes('queued')) {
    Object.assign($('#drafts-status'), { hidden: false, textContent: 'Queued — sends when you’re back online.' });
  }
  if ($('#unsent') && location.search.includes('unsent')) $('#unsent').hidden = false;
  addEventListener('online', send);
  refresh()
    .then(() => online() && send())
    .catch(quiet);
})();
