import type { Context } from 'koa';
import type { z } from 'zod';
import { badRequest } from './errors.ts';

/** Turns zod issues into `{field: sentence}` and one summary sentence naming the fields. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.length ? issue.path.join('.') : '_';
    if (!(key in fields)) fields[key] = issue.message;
  }
  return fields;
}

export function summarize(fields: Record<string, string>): string {
  const names = Object.keys(fields).filter((k) => k !== '_');
  if (names.length === 0) return fields._ ?? 'The request is not valid.';
  const [first] = names;
  if (names.length === 1 && first) return `${first}: ${fields[first]}`;
  return `Check these fields: ${names.join(', ')}.`;
}

export function parseWith<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input ?? {});
  if (!result.success) {
    const fields = fieldErrors(result.error);
    throw badRequest(summarize(fields), fields);
  }
  return result.data;
}

export type Body = Record<string, unknown>;

/** The request body as it came (an object, or empty), for parsers that take the whole form. */
export const bodyOf = (ctx: Context): Body => (ctx.request.body ?? {}) as Body;

/** The request body, validated (unknown keys are dropped by the schemas). */
export function validBody<S extends z.ZodType>(ctx: Context, schema: S): z.infer<S> {
  const body = ctx.request.body;
  if (body !== undefined && (body === null || typeof body !== 'object' || Array.isArray(body))) {
    throw badRequest('The request body must be a JSON object.');
  }
  return parseWith(schema, body);
}

export const validQuery = <S extends z.ZodType>(ctx: Context, schema: S): z.infer<S> => parseWith(schema, ctx.query);
