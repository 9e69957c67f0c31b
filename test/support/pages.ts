import type { Client, Reply } from './client.ts';

/** The username the layout shows as signed in (the sign-out button's title), or undefined. */
export function layoutUser(page: Reply): string | undefined {
  return page
    .$('header form[action="/logout"] button')
    .attr('title')
    ?.replace(/^Signed in as /, '');
}

/**
 * Who the client is signed in as, read from a page in the layout that anyone may open (the
 * register page), so the answer does not depend on what the home page shows.
 */
export async function signedInAs(client: Client): Promise<string | undefined> {
  return layoutUser(await client.get('/register'));
}
