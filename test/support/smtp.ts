import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerAuthentication, type SMTPServerSession } from 'smtp-server';

/**
 * A real SMTP server (the `smtp-server` package) on loopback for the SMTP transport's tests: it checks
 * AUTH against one user, answers RCPT TO as told (accept, or a 4xx/5xx reply for an address), and keeps
 * each accepted message parsed by `mailparser`, with whether its session was encrypted.
 */

export const SMTP_USER = 'relay-user';
/** Characters that must be percent-encoded in a URL, so the test also covers decoding. */
export const SMTP_PASSWORD = 'S3cret/pa:ss@relay';

export interface ReceivedMail {
  parsed: ParsedMail;
  /** The envelope's recipients (RCPT TO). */
  to: string[];
  /** The session was TLS: smtps from the start, or upgraded by STARTTLS. */
  secure: boolean;
  user: string | undefined;
}

export interface LocalSmtp {
  port: number;
  received: ReceivedMail[];
  /** Failed AUTH attempts (wrong user or password). */
  authFailures: number;
  /** Answer RCPT TO for `address` with this SMTP reply (e.g. 450 or 550) from now on. */
  refuse(address: string, code: number, message: string): void;
  /** Accept `address` again (the relay has recovered). */
  accept(address: string): void;
  /** The URL the app is given: user and password percent-encoded. */
  url(options?: { scheme?: 'smtp' | 'smtps'; password?: string; query?: string }): string;
  /** Resolves with the next message accepted. */
  next(): Promise<ReceivedMail>;
  close(): Promise<void>;
}

export interface LocalSmtpOptions {
  /** smtps: TLS from the first byte. */
  secure?: boolean;
  /** A certificate: STARTTLS is offered (or, with `secure`, used from the start). Without one STARTTLS is hidden. */
  tls?: { key: string; cert: string };
}

export async function startSmtpServer(options: LocalSmtpOptions = {}): Promise<LocalSmtp> {
  const received: ReceivedMail[] = [];
  const refusals = new Map<string, { code: number; message: string }>();
  const waiting: ((mail: ReceivedMail) => void)[] = [];
  const state = { authFailures: 0 };
  const reply = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

  const server = new SMTPServer({
    secure: options.secure ?? false,
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : { disabledCommands: ['STARTTLS'] }),
    // AUTH over plain text only where there is no certificate to upgrade with (the plain tests).
    allowInsecureAuth: !options.tls,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth: SMTPServerAuthentication, _session: SMTPServerSession, done) {
      if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD) return done(null, { user: auth.username });
      state.authFailures += 1;
      return done(reply(535, '5.7.8 Authentication credentials invalid'));
    },
    onRcptTo(address, _session, done) {
      const refusal = refusals.get(address.address.toLowerCase());
      done(refusal ? reply(refusal.code, refusal.message) : null);
    },
    onData(stream, session, done) {
      simpleParser(stream)
        .then((parsed) => {
          const mail: ReceivedMail = {
            parsed,
            to: session.envelope.rcptTo.map((r) => r.address),
            secure: session.secure,
            user: typeof session.user === 'string' ? session.user : undefined,
          };
          received.push(mail);
          for (const resolve of waiting.splice(0)) resolve(mail);
          done();
        })
        .catch(done);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    received,
    get authFailures() {
      return state.authFailures;
    },
    refuse(address, code, message) {
      refusals.set(address.toLowerCase(), { code, message });
    },
    accept(address) {
      refusals.delete(address.toLowerCase());
    },
    url({ scheme = options.secure ? 'smtps' : 'smtp', password = SMTP_PASSWORD, query = '' } = {}) {
      return `${scheme}://${encodeURIComponent(SMTP_USER)}:${encodeURIComponent(password)}@127.0.0.1:${port}${query}`;
    },
    next: () => new Promise((resolve) => waiting.push(resolve)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A self-signed certificate for 127.0.0.1 and localhost, made by the openssl command (Debian's
 * openssl package; CI installs it when missing). The test trusts it explicitly as its own CA.
 */
export function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
