import { TextDecoder } from 'node:util';
import { declaredCharset } from '../charset.js';
import { Busboy, type BusboyHeaders } from '@fastify/busboy';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parse as parseLosslessJson } from 'lossless-json';
import { recordConversion, type RecordDeps, type RecordResult } from '../../conversions/index.js';
import type { ConversionMethod } from '../../domain/conversion.js';
import { AppError } from '../../domain/errors.js';
import { PixelInput, PostbackAnswer, PostbackInput } from '../../domain/schemas/conversion.js';
import { ErrorBody } from '../../domain/schemas/common.js';
import type { Metrics } from '../../observability/metrics.js';
import { readOfferCookies } from '../redirect/offer-cookie.js';
import { compileValidator } from '../validation.js';
import { parsedWhole } from '../parsed-whole.js';
import { checkInput, collectParams, toReport } from './report-input.js';

/** 1×1 transparent GIF. */
const PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const validatePostback = compileValidator(PostbackInput);
const validatePixel = compileValidator(PixelInput);

// Query and body are merged before validation, so the schemas below are for the OpenAPI document
// only; the handlers check the merged input once, against the same schemas.
const documentedOnly = () => () => true;
// These GETs record conversions; a HEAD (link checkers, prefetchers) must not.
const exposeHeadRoute = false;

/**
 * A JSON number as parameter text. An integer keeps every digit: JSON.parse would round a 64-bit
 * order id (9007199254740993) to a double, storing another order's id and answering the next real
 * order of that id `duplicate`. Any other number reads as JSON.parse reads it, in its shortest text
 * (`19.990000` and `1.0E7` are `19.99` and `10000000`, as they always were).
 */
const numberText = (text: string): string => {
  if (/^-?\d+$/.test(text)) return text;
  const value = Number(text);
  // Past a double's range (1e999) the text stays as sent: the input schema judges it, not "Infinity".
  return Number.isFinite(value) ? String(value) : text;
};

/**
 * JSON bodies read as JSON.parse reads them (a byte order mark skipped, the last of repeated keys
 * wins), but for their numbers. An empty body is no body: many HTTP clients label a bodiless POST
 * `application/json`, with every field in the query, and a 400 would lose the conversion, since
 * advertisers do not retry one.
 */
function parseJsonExactly(_request: FastifyRequest, body: string, done: (err: Error | null, body?: unknown) => void): void {
  const read = readJsonObject(body);
  if (read.ok) done(null, read.value);
  else done(AppError.invalid([], read.message));
}

/** A JSON body's parameters (undefined for an empty body), or why it holds none. */
function readJsonObject(body: string): { ok: true; value: unknown } | { ok: false; message: string } {
  const text = body.startsWith('\ufeff') ? body.slice(1) : body;
  if (text.trim() === '') return { ok: true, value: undefined };
  let parsed: unknown;
  try {
    parsed = parseLosslessJson(text, undefined, { parseNumber: numberText, onDuplicateKey: ({ newValue }) => newValue });
  } catch (err) {
    return { ok: false, message: `the body is not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  // Only an object holds parameters: an array or a lone value would be dropped, and the postback converted from the query alone.
  if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed))) return { ok: false, message: 'the JSON body must be an object of parameters' };
  return { ok: true, value: parsed };
}

/** A postback's fields are few and short; it carries no files. */
const MULTIPART_LIMITS = { fields: 50, fieldSize: 4096, parts: 50 };

/**
 * PHP's cURL posts an array of fields as multipart/form-data. The body is read whole first, so the
 * server's body limit applies as to any other, and a body cut short is refused rather than read in
 * part; text fields only, the first of a repeated one wins, as in a form.
 */
function parseMultipart(request: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void): void {
  let settled = false;
  const fail = (why: string) => {
    if (!settled) (settled = true), done(AppError.invalid([], `the multipart body cannot be read: ${why}`));
  };
  let parser: InstanceType<typeof Busboy>;
  try {
    parser = new Busboy({ headers: request.headers as BusboyHeaders, limits: MULTIPART_LIMITS });
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  const label = (name: string | undefined) => (name === undefined ? 'with no name' : name.slice(0, 40));
  parser.on('field', (name: string | undefined, value: string, _nameTruncated: boolean, valueTruncated: boolean) => {
    if (name === undefined) fail('a field has no name');
    else if (valueTruncated) fail(`field ${label(name)} is longer than ${MULTIPART_LIMITS.fieldSize} bytes`);
    else if (!(name in fields)) fields[name] = value;
  });
  parser.on('file', (name: string | undefined, stream: NodeJS.ReadableStream) => {
    // A part cut short errors on this stream; unheard, that error would end the process.
    stream.on('error', () => undefined);
    stream.resume();
    fail(`field ${label(name)} is a file; a postback carries text fields only`);
  });
  for (const limit of ['partsLimit', 'fieldsLimit'] as const) parser.on(limit, () => fail(`more than ${MULTIPART_LIMITS.fields} fields`));
  parser.on('error', (err: Error) => fail(err.message));
  parser.on('finish', () => {
    if (!settled) (settled = true), done(null, fields);
  });
  parser.end(body);
}

const looksLikeJson = (body: string): boolean => /^\ufeff?\s*[[{]/.test(body);

/**
 * Advertisers' servers often POST forms; the first value of a repeated field wins, as in queries.
 * Bodies labelled text/plain (fetch's label for a string body) are read the same way. JSON under
 * either label (PHP cURL labels a JSON string a form) is read as JSON: dropped, or read as one field
 * named after the whole text, the postback converted from the query alone, without its amount,
 * order or event, and the corrected retry was then a duplicate.
 */
function parseForm(request: FastifyRequest, body: string, done: (err: Error | null, body?: unknown) => void): void {
  if (looksLikeJson(body)) {
    // Only a JSON object is taken as one: what merely starts like JSON under these labels (fetch
    // sends `[object Object]` for an object body; a field named `{tid}`) is read as before.
    const read = readJsonObject(body);
    if (read.ok && read.value !== null) return done(null, read.value);
  }
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, value] of formPairs(body, formDecoder(request.headers['content-type']))) if (!(key in fields)) fields[key] = value;
  done(null, fields);
}

/**
 * The decoder of a form's escapes in the character set its Content-Type names, when that is not
 * UTF-8: `%E9` of an ISO-8859-1 form (older PHP shops) is é. Read as UTF-8 it became U+FFFD, so two
 * orders differing in an accented letter were one order id, and the second a duplicate.
 */
function formDecoder(contentType: string | undefined): TextDecoder | undefined {
  const charset = declaredCharset(contentType);
  if (charset === undefined) return undefined;
  try {
    const decoder = new TextDecoder(charset);
    return decoder.encoding === 'utf-8' ? undefined : decoder;
  } catch {
    return undefined; // a label no decoder knows: read as UTF-8, as before
  }
}

/**
 * A form's pairs. With a decoder, each stretch between the form's delimiters is taken as bytes (its
 * escapes and its plain characters alike: a Shift_JIS "ア" is sent as `%83A`, its second byte a plain
 * letter), decoded in the form's character set and escaped again as UTF-8, so the standard parser
 * reads the form as it reads any other.
 */
function formPairs(body: string, decoder: TextDecoder | undefined): URLSearchParams {
  if (decoder === undefined) return new URLSearchParams(body);
  const bytesOf = (run: string) => Buffer.from(run.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))), 'latin1');
  return new URLSearchParams(body.replace(/(?:%[0-9a-f]{2}|[^&=+%])+/gi, (run) => encodeURIComponent(decoder.decode(bytesOf(run)))));
}

/** Runs one report to its answer, counted by method: `refused` when it stored nothing (an error). */
async function counted(metrics: Metrics, method: ConversionMethod, report: () => Promise<RecordResult>): Promise<RecordResult> {
  try {
    const result = await report();
    metrics.conversions.inc({ method, status: result.status });
    return result;
  } catch (err) {
    metrics.conversions.inc({ method, status: 'refused' });
    throw err;
  }
}

async function answerPostback(deps: RecordDeps, metrics: Metrics, request: FastifyRequest, reply: FastifyReply) {
  const started = performance.now();
  // A GET's route runs before the parser has read what follows its headers: see parsedWhole.
  if (!(await parsedWhole(request, reply))) return reply;
  try {
    const result = await counted(metrics, 'server_postback', () => {
      const input = checkInput<PostbackInput>(validatePostback, collectParams(request.query, request.body));
      return recordConversion(deps, toReport(input, input.transaction_id, 'server_postback', input.verification_token ?? null));
    });
    return reply.header('cache-control', 'no-store').send(result);
  } finally {
    metrics.postbackLatency.observe((performance.now() - started) / 1000);
  }
}

function sendPixel(reply: FastifyReply): FastifyReply {
  return reply
    .code(200)
    .headers({ 'content-type': 'image/gif', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' })
    .send(PIXEL_GIF);
}

/**
 * Records a pixel conversion if there is one to record; every failure is logged and swallowed. A
 * pixel that stores nothing (bad parameters, no offer cookie in this browser on this host) counts
 * `refused` like a postback that stores nothing: its answer is the same GIF whatever happened, so
 * /metrics is where an operator sees a pixel placed where it can never convert.
 */
async function convertFromPixel(deps: RecordDeps, metrics: Metrics, request: FastifyRequest): Promise<void> {
  try {
    await counted(metrics, 'cookie', () => {
      const input = checkInput<PixelInput>(validatePixel, collectParams(request.query));
      const transactionId = readOfferCookies(request.headers.cookie).get(Number(input.offer_id))?.transactionId;
      if (transactionId === undefined) throw new AppError('not_found', `this browser sends no sy_o${input.offer_id} cookie on this host`);
      return recordConversion(deps, { ...toReport(input, transactionId, 'cookie', null), offerId: Number(input.offer_id) });
    });
  } catch (err) {
    if (err instanceof AppError) request.log.debug({ err }, 'pixel conversion refused');
    else request.log.error({ err }, 'pixel conversion failed');
  }
}

/**
 * The conversion endpoints (SPEC §10.1, §10.2): server postbacks answer JSON; the cookie pixel
 * always answers a GIF, whatever happened, because a browser shows whatever it gets.
 */
export async function registerConversionPaths(app: FastifyInstance, deps: RecordDeps, metrics: Metrics): Promise<void> {
  await app.register(async (scope) => {
    // Form bodies are accepted here only; the management API stays JSON-only.
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, parseForm);
    scope.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, parseMultipart);
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, parseJsonExactly);
    scope.removeContentTypeParser('text/plain');
    scope.addContentTypeParser('text/plain', { parseAs: 'string' }, parseForm);
    const tags = ['conversions'];
    // 503 unavailable (with Retry-After) while another connection holds the database's write lock: send it again.
    const response = { 200: PostbackAnswer, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody, 503: ErrorBody };
    const description =
      'A 2xx answer means the conversion is stored durably. A replay of the same (transaction_id, event_id, order_id) answers `duplicate`.';
    scope.get('/postback', {
      schema: { tags, summary: 'Server postback: record a conversion', description, querystring: PostbackInput, response, security: [] },
      validatorCompiler: documentedOnly,
      exposeHeadRoute,
      handler: (request, reply) => answerPostback(deps, metrics, request, reply),
    });
    scope.post('/postback', {
      schema: {
        tags,
        summary: 'Server postback in a form or JSON body (query parameters are merged in; the body wins)',
        description,
        body: PostbackInput,
        consumes: ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'],
        response: { ...response, 413: ErrorBody },
        security: [],
      },
      validatorCompiler: documentedOnly,
      handler: (request, reply) => answerPostback(deps, metrics, request, reply),
    });
    // A HEAD (a link checker, `curl -I` on the pixel URL) gets the GIF's answer, as the spec's
    // "always a 1×1 GIF" asks, but is not a pixel fire: nothing is read or stored (the GET derives
    // no HEAD route, which would convert).
    scope.head('/pixel', { schema: { hide: true } }, async (_request, reply) => sendPixel(reply));
    scope.get('/pixel', {
      schema: {
        tags,
        summary: "Cookie pixel: converts the click whose offer cookie this browser holds; always a 1×1 GIF",
        querystring: PixelInput,
        response: { 200: { description: 'A 1×1 transparent GIF, whatever happened', content: { 'image/gif': { schema: { type: 'string', format: 'binary' } } } } },
        security: [],
      },
      validatorCompiler: documentedOnly,
      exposeHeadRoute,
      // Even a failure before the handler (a body the parser refuses) answers the GIF.
      errorHandler: (err, request, reply) => {
        request.log.debug({ err }, 'pixel request refused');
        return sendPixel(reply);
      },
      handler: async (request, reply) => {
        if (!(await parsedWhole(request, reply))) return reply;
        await convertFromPixel(deps, metrics, request);
        return sendPixel(reply);
      },
    });
  });
}
