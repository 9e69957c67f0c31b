import { z } from 'zod';
import { optionalParam, optionalText, text } from '../../lib/schema.ts';

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
