import * as cheerio from 'cheerio';
import { replyAddress } from '../../src/lib/reply-address.ts';
import type { TestApp } from './app.ts';
import type { Reply } from './client.ts';

/**
 * SendGrid Inbound Parse posts, as SendGrid sends them: multipart/form-data (built by fetch's FormData,
 * boundary and all) with its fields (from, to, text, html, dkim, SPF, envelope, charsets, …) and any
 * attachments as file parts.
 */

export const INBOUND_DOMAIN = 'reply.example.test';
export const INBOUND_SECRET = 'inbound-secret-0123456789abcdef';

export interface InboundSpec {
  from: string;
  to: string;
  text?: string;
  html?: string;
  /** SendGrid's DKIM result, e.g. `{@example.test : pass}`; default: a pass for the sender's domain. */
  dkim?: string;
  SPF?: string;
  envelopeFrom?: string;
  subject?: string;
  attachments?: { name: string; type: string; bytes: Uint8Array }[];
  /** Fields as given, over the rest. */
  extra?: Record<string, string>;
}

const domainOf = (from: string) => /@([^>\s]+)/.exec(from)?.[1] ?? 'example.test';

export const replyTo = (app: TestApp, ticketId: number) => replyAddress(ticketId, INBOUND_DOMAIN, app.config.secretKey);

export function inboundForm(spec: InboundSpec): FormData {
  const form = new FormData();
  const fields: Record<string, string> = {
    headers: `Received: by mx.sendgrid.net\nFrom: ${spec.from}\nTo: ${spec.to}\n`,
    dkim: spec.dkim ?? `{@${domainOf(spec.from)} : pass}`,
    to: spec.to,
    from: spec.from,
    subject: spec.subject ?? 'Re: Cable request needs your review',
    sender_ip: '203.0.113.7',
    spam_score: '0.1',
    envelope: JSON.stringify({
      to: [spec.to.replace(/^.*</, '').replace(/>.*$/, '')],
      from: spec.envelopeFrom ?? `bounce@${domainOf(spec.from)}`,
    }),
    SPF: spec.SPF ?? 'pass',
    charsets: JSON.stringify({ to: 'UTF-8', from: 'UTF-8', subject: 'UTF-8', text: 'UTF-8', html: 'UTF-8' }),
    ...(spec.text !== undefined ? { text: spec.text } : {}),
    ...(spec.html !== undefined ? { html: spec.html } : {}),
    attachments: String(spec.attachments?.length ?? 0),
    ...spec.extra,
  };
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  spec.attachments?.forEach((a, n) => {
    form.append(`attachment${n + 1}`, new Blob([a.bytes], { type: a.type }), a.name);
  });
  return form;
}

/** Posts an inbound email the way SendGrid does, with basic auth (the secret) unless told otherwise. */
export async function postInbound(
  app: TestApp,
  body: FormData | { raw: string | Uint8Array; contentType: string },
  auth: { basic?: string | null; path?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  const password = auth.basic === undefined ? INBOUND_SECRET : auth.basic;
  if (password !== null && auth.path === undefined)
    headers.authorization = `Basic ${Buffer.from(`inbound:${password}`).toString('base64')}`;
  if (!(body instanceof FormData)) headers['content-type'] = body.contentType;
  const path = auth.path === undefined ? '/api/inbound/email' : `/api/inbound/email/${auth.path}`;
  const res = await fetch(`${app.url}${path}`, {
    method: 'POST',
    headers,
    body: body instanceof FormData ? body : body.raw,
    redirect: 'manual',
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json, $: cheerio.load(text) };
}
