import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { HttpError } from './errors.ts';

/**
 * The text fields of a multipart/form-data request (a webhook such as SendGrid's Inbound Parse), read
 * with busboy under limits: at most `maxBytes` in all (413 past it, the rest not read), a bounded
 * number of fields and parts. File parts (attachments) are read past and dropped. Field values come
 * as bytes, decoded here with the charset `charsetOf(name)` names (UTF-8 when it names none).
 */
export async function readMultipartFields(
  req: IncomingMessage,
  options: { maxBytes: number; charsetOf?: (fields: Map<string, Buffer>, name: string) => string | undefined },
): Promise<Record<string, string>> {
  const type = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data\s*;/i.test(type)) throw new HttpError(415, 'The body must be multipart/form-data.');
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxBytes) throw tooLarge(options.maxBytes);
  const raw = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        // Bytes as they came (latin1 maps each byte to one code unit), decoded below with their charset.
        defCharset: 'latin1',
        limits: { fieldSize: options.maxBytes, fields: 100, parts: 200, files: 50, fieldNameSize: 100 },
      });
    } catch {
      reject(new HttpError(400, 'The multipart body has no boundary.'));
      return;
    }
    let received = 0;
    let failed = false;
    const fail = (err: HttpError) => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      req.resume();
      reject(err);
    };
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > options.maxBytes) fail(tooLarge(options.maxBytes));
    });
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated || info.nameTruncated) fail(tooLarge(options.maxBytes));
      else if (!raw.has(name)) raw.set(name, Buffer.from(value, 'latin1'));
    });
    parser.on('file', (_name, stream) => stream.resume());
    for (const limit of ['partsLimit', 'filesLimit', 'fieldsLimit'] as const) {
      parser.on(limit, () => fail(new HttpError(413, 'The body has too many parts.')));
    }
    parser.on('error', () => fail(new HttpError(400, 'The multipart body could not be read.')));
    parser.on('close', () => {
      if (!failed) resolve();
    });
    req.on('error', () => fail(new HttpError(400, 'The request body was cut off.')));
    req.pipe(parser);
  });
  const fields: Record<string, string> = {};
  for (const [name, bytes] of raw) fields[name] = decode(bytes, options.charsetOf?.(raw, name));
  return fields;
}

const tooLarge = (max: number) => new HttpError(413, `The body is larger than ${Math.round(max / 1024)} KB.`);

function decode(bytes: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}
