import { z } from 'zod';
import { isoTime } from '../../http/openapi.ts';
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
