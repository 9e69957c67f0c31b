import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Db } from '../db/index.ts';
import type { Assets } from './assets.ts';
import type { EncodedBody } from './kept-responses.ts';
import type { Views } from './views.ts';

/** Who is calling: set by the auth middleware from a session cookie or a bearer token. */
export interface Principal {
  id: number;
  username: string;
  email: string;
  role: 'user' | 'admin';
}

export interface Deps {
  config: Config;
  db: Db;
  logger: Logger;
  views: Views;
  assets: Assets;
  /** The time for checks that tests move (an ID token's expiry); unset: the real clock. */
  clock?: () => Date;
}

export interface AppState {
  requestId: string;
  user?: Principal;
  /** How the caller signed in: a session, or a bearer token (sign-in or personal, with its scope). */
  auth?: { method: 'session' } | { method: 'token'; tokenId: number; kind: 'sign_in' | 'personal'; scope: 'read' | 'write' };
  /** Returns the CSRF token for forms, creating the session secret on first use. */
  csrfToken: () => string;
  /** A kept response's body and its compressed forms (kept-responses.ts; used by compressInMemory). */
  encodedBody?: EncodedBody;
}

/** What the app keeps in a cookie session (koa-session, stored in the database). */
export interface AppSession {
  isNew?: boolean;
  maxAge?: number;
  userId?: number;
  csrfSecret?: string;
  /** A single sign-on on its way through the identity provider (auth/oidc.ts PendingSignIn). */
  oidc?: unknown;
  /** The ID token of a single sign-on, for the provider's logout. */
  oidcIdToken?: string;
  flash?: unknown;
  regenerate(): Promise<void> | undefined;
  [key: string]: unknown;
}

declare module 'koa' {
  interface DefaultState extends AppState {}
  interface DefaultContext {
    deps: Deps;
    log: Logger;
    session: AppSession;
  }
}
