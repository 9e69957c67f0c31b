import { z } from 'zod';
import { isoTime } from '../../http/openapi.ts';
import { integer, text } from '../../lib/schema.ts';
import { userJson } from '../users/schema.ts';

/** A token handed out at sign-in or registration (shown once; only its hash is stored). */
export const signInJson = z
  .object({
    message: z.string(),
    access_token: z.string().meta({ description: 'Send as `Authorization: Bearer <access_token>`.' }),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().meta({ description: 'Seconds until it expires (AUTH_TOKEN_TTL_SECONDS).' }),
    expires_at: isoTime,
    user: userJson,
  })
  .meta({ id: 'SignIn' });
export type SignInJson = z.infer<typeof signInJson>;

export const TOKEN_SCOPES = ['read', 'write'] as const;
/** The longest a personal token may live: a year. */
export const MAX_TOKEN_DAYS = 365;
export const DEFAULT_TOKEN_DAYS = 90;

export const newTokenSchema = z.object({
  name: text(100).meta({ description: 'What the token is for (“inventory sync”), to recognise it later.' }),
  scope: z
    .enum(TOKEN_SCOPES, { error: (iss) => (iss.input === undefined ? 'is required' : 'must be read or write') })
    .meta({ description: '`read`: only safe methods (GET); any other method is a 403. `write`: everything the account may do.' }),
  expires_in_days: z
    .preprocess((v) => (v === undefined || v === '' ? DEFAULT_TOKEN_DAYS : v), integer(1, MAX_TOKEN_DAYS))
    .meta({ description: `Days until it stops working: 1 to ${MAX_TOKEN_DAYS} (default ${DEFAULT_TOKEN_DAYS}).` }),
});
export type NewTokenInput = z.infer<typeof newTokenSchema>;

/** A personal token as listed: never the token itself, which is shown once, when made. */
export const personalTokenJson = z
  .object({
    id: z.number().int(),
    name: z.string(),
    scope: z.enum(TOKEN_SCOPES),
    created_at: isoTime,
    expires_at: isoTime,
    last_used_at: isoTime.nullable().meta({ description: 'To the minute: a use is noted at most once a minute.' }),
  })
  .meta({ id: 'PersonalToken' });
export type PersonalTokenJson = z.infer<typeof personalTokenJson>;

export const createdTokenJson = z.object({
  message: z.string(),
  access_token: z.string().meta({ description: 'The token, shown this once: `ctp_` and 43 characters.' }),
  token_type: z.literal('Bearer'),
  token: personalTokenJson,
});
