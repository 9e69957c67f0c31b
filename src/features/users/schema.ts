import { z } from 'zod';
import { isoTime, personRef } from '../../http/openapi.ts';
import { integer, MAX_ID, optionalParam, optionalText, text } from '../../lib/schema.ts';

export const roleSchema = z.enum(['user', 'admin'], { error: 'must be user or admin' });

export const registerSchema = z.object({
  username: text(50, 3).regex(/^[A-Za-z0-9._-]+$/, 'may contain only letters, digits, dot, dash and underscore'),
  email: text(254).pipe(z.email('must be an email address')),
  phone: optionalText(32)
    .transform((v) => v?.replace(/[\s().-]/g, ''))
    .refine((v) => v === undefined || /^\+[1-9]\d{6,14}$/.test(v), 'must be in international form, e.g. +12025551234'),
  password: z
    .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be text') })
    .min(8, 'must be at least 8 characters')
    .max(200, 'must be at most 200 characters'),
  role: optionalParam(roleSchema),
});
export type RegisterInput = z.infer<typeof registerSchema>;

export const loginSchema = z.object({
  username: text(254),
  password: z
    .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be text') })
    .min(1, 'is required')
    .max(200, 'must be at most 200 characters'),
});

export const roleChangeSchema = z.object({ role: roleSchema });

/**
 * A moment: an ISO-8601 date-time with its offset, or a day (`2027-01-10`, UTC). As the end of an away
 * period a day means the whole day, so it ends at the next midnight.
 */
const moment = (end: boolean) =>
  z
    .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a date') })
    .trim()
    .min(1, 'is required')
    .max(40, 'must be a date')
    .transform((v, ctx) => {
      const day = /^\d{4}-\d{2}-\d{2}$/.test(v);
      const ok = day || /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(v);
      const date = ok ? new Date(day ? `${v}T00:00:00Z` : v) : new Date(Number.NaN);
      if (Number.isNaN(date.getTime()) || (day && date.toISOString().slice(0, 10) !== v)) {
        ctx.addIssue({ code: 'custom', message: 'must be a date (2027-01-10) or a date and time with its offset' });
        return z.NEVER;
      }
      return day && end ? new Date(date.getTime() + 86_400_000) : date;
    });

/** "Away from .. to .., my delegate is X": the delegate by username (forms) or id (API). */
export const delegationSchema = z
  .object({
    delegate: optionalText(50),
    delegate_id: optionalParam(integer(1, MAX_ID)),
    away_from: moment(false),
    away_until: moment(true),
  })
  .refine((d) => d.delegate !== undefined || d.delegate_id !== undefined, {
    message: 'is required (a username, or delegate_id)',
    path: ['delegate'],
  });
export type DelegationBody = z.infer<typeof delegationSchema>;

/** A user as the API shows one: the phone number only to its owner and to admins. */
export const userJson = z
  .object({
    id: z.number().int(),
    username: z.string(),
    email: z.string(),
    phone: z.string().nullable().optional().meta({ description: 'Shown to the account’s owner and to admins only.' }),
    role: z.enum(['user', 'admin']),
    created_at: isoTime,
  })
  .meta({ id: 'User' });
export type UserJson = z.infer<typeof userJson>;

/** Someone's delegation while away: who decides for them, from when until when (the end excluded). */
export const delegationJson = z
  .object({
    delegate: personRef,
    away_from: isoTime,
    away_until: isoTime.meta({ description: 'The moment it ends (a day sent as away_until ends at the next midnight).' }),
    active: z.boolean().meta({ description: 'The period has begun and not yet ended.' }),
  })
  .meta({ id: 'Delegation' });
export type DelegationJson = z.infer<typeof delegationJson>;
