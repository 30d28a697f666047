import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: string | Buffer, text: string) => createHmac('sha256', key).update(text).digest();

/**
 * Checks a request made to a SigV4 presigned URL (signature in the query) as S3 does: the
 * signature is computed again over the request as it arrived, its signed headers (content-length
 * included when the URL signed it) taken from the request, with `secret`. False when it differs
 * or the URL has expired. Only what presigned uploads need: an unsigned payload, one secret.
 */
export function presignedRequestIsValid(request: { method: string; url: URL; headers: Record<string, string | string[] | undefined> }, secret: string, now = Date.now()): boolean {
  const q = request.url.searchParams;
  const provided = q.get('X-Amz-Signature');
  const credential = q.get('X-Amz-Credential')?.split('/');
  const amzDate = q.get('X-Amz-Date');
  const signedHeaders = q.get('X-Amz-SignedHeaders')?.split(';');
  if (!provided || !credential || credential.length !== 5 || !amzDate || !signedHeaders) return false;
  const [, date, region, service] = credential;
  const issued = Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (!(now <= issued + Number(q.get('X-Amz-Expires') ?? 0) * 1000)) return false;
  const header = (name: string) => [request.headers[name] ?? ''].flat().join(',').trim().replace(/\s+/g, ' ');
  const query = [...q.entries()]
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`)
    .sort()
    .join('&');
  const canonical = [request.method, request.url.pathname, query, ...signedHeaders.map((h) => `${h}:${header(h)}`), '', signedHeaders.join(';'), 'UNSIGNED-PAYLOAD'].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, `${date}/${region}/${service}/aws4_request`, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  const expected = Buffer.from(hmac(key, toSign).toString('hex'));
  const given = Buffer.from(provided);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
