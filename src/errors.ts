// The error catalogue and the one place errors become RFC 9457 problem+json responses.
// Clients and tests rely on `code`, never on the wording of `detail`.
import createError from '@fastify/error'
import { errorCodes as fastifyErrorCodes, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { Type, type Static } from 'typebox'
import { patternHints, StringEnum } from './common-schemas.ts'
import { securityHeaders } from './security-headers.ts'

export const ProblemSchema = Type.Object({
  type: Type.String({ description: 'URI reference naming the kind of problem' }),
  title: Type.String({ description: 'Short summary of the kind of problem' }),
  status: Type.Integer({ minimum: 400, maximum: 599 }),
  detail: Type.String({ description: 'What went wrong in this request' }),
  instance: Type.String({ description: 'The request path' }),
  code: Type.String({ description: 'Stable machine-readable error code' }),
  errors: Type.Optional(Type.Array(Type.Object({
    in: StringEnum(['body', 'query', 'params', 'headers'], { description: 'Which part of the request' }),
    pointer: Type.String({ description: 'JSON Pointer to the offending value within that part' }),
    message: Type.String()
  }), { description: 'Each invalid value, for validation problems' })),
  currentVersion: Type.Optional(Type.Integer({ description: 'The version now stored, for precondition failures' })),
  lease: Type.Optional(Type.Object({
    holder: Type.Object({ keyId: Type.Union([Type.String(), Type.Null()]), name: Type.String() }),
    expiresAt: Type.String({ format: 'date-time' })
  }, { description: 'Who holds the article\'s edit lease, and until when, for ARTICLE_LOCKED' })),
  blockers: Type.Optional(Type.Array(Type.Object({
    check: Type.String({ description: '"signoff" or "preflight"' }),
    name: Type.String({ description: 'The sign-off kind, or the preflight rule' }),
    message: Type.String()
  }), { description: 'Everything that keeps the article from going live, for PUBLICATION_BLOCKED' }))
}, {
  $id: 'Problem',
  title: 'Problem',
  description: 'An RFC 9457 problem details object',
  examples: [{
    type: 'https://copydesk.dev/problems/validation-failed',
    title: 'Bad Request',
    status: 400,
    detail: 'body/headline must NOT have fewer than 1 characters',
    instance: '/articles',
    code: 'VALIDATION_FAILED',
    errors: [{ in: 'body', pointer: '/headline', message: 'must NOT have fewer than 1 characters' }]
  }]
})
export type Problem = Static<typeof ProblemSchema>
export type FieldError = NonNullable<Problem['errors']>[number]

/** An error that knows its HTTP status, stable code, and (optionally) the fields at fault. */
export interface CatalogueError extends FastifyError {
  fieldErrors?: FieldError[]
  currentVersion?: number
  lease?: Problem['lease']
  blockers?: Problem['blockers']
}

function entry (code: string, statusCode: number, message: string) {
  return createError<[string?]>(code, message, statusCode)
}

export const errors = {
  validationFailed: entry('VALIDATION_FAILED', 400, '%s'),
  jsonTooDeep: entry('JSON_TOO_DEEP', 400, '%s'),
  invalidUtf8: entry('INVALID_UTF8', 400, '%s'),
  invalidReference: entry('INVALID_REFERENCE', 400, '%s'),
  publishedAtInFuture: entry('PUBLISHED_AT_IN_FUTURE', 400, '%s'),
  articleNotFound: entry('ARTICLE_NOT_FOUND', 404, 'No article matches %s'),
  authorNotFound: entry('AUTHOR_NOT_FOUND', 404, 'No author matches %s'),
  imageNotFound: entry('IMAGE_NOT_FOUND', 404, 'No image matches %s'),
  sectionNotFound: entry('SECTION_NOT_FOUND', 404, 'No section matches %s'),
  tagNotFound: entry('TAG_NOT_FOUND', 404, 'No tag matches %s'),
  mastheadRoleNotFound: entry('MASTHEAD_ROLE_NOT_FOUND', 404, 'No masthead role matches %s'),
  revisionNotFound: entry('REVISION_NOT_FOUND', 404, 'No revision matches %s'),
  pendingRevisionNotFound: entry('PENDING_REVISION_NOT_FOUND', 404, 'No pending revision: %s'),
  liveCoverageNotFound: entry('LIVE_COVERAGE_NOT_FOUND', 404, 'No live coverage matches %s'),
  liveEntryNotFound: entry('LIVE_ENTRY_NOT_FOUND', 404, 'No live entry matches %s'),
  webhookNotFound: entry('WEBHOOK_NOT_FOUND', 404, 'No webhook matches %s'),
  webhookDeliveryNotFound: entry('WEBHOOK_DELIVERY_NOT_FOUND', 404, 'No webhook delivery matches %s'),
  keyNotFound: entry('KEY_NOT_FOUND', 404, 'No API key matches %s'),
  previewLinkInvalid: entry('PREVIEW_LINK_INVALID', 404, '%s'),
  routeNotFound: entry('ROUTE_NOT_FOUND', 404, '%s'),
  authenticationRequired: entry('AUTHENTICATION_REQUIRED', 401, '%s'),
  invalidKey: entry('INVALID_KEY', 401, '%s'),
  roleNotAllowed: entry('ROLE_NOT_ALLOWED', 403, '%s'),
  forbidden: entry('FORBIDDEN', 403, '%s'),
  tooManyRequests: entry('TOO_MANY_REQUESTS', 429, '%s'),
  slugTaken: entry('SLUG_TAKEN', 409, '%s'),
  slugReserved: entry('SLUG_RESERVED', 400, '%s'),
  inUse: entry('IN_USE', 409, '%s'),
  conflict: entry('CONFLICT', 409, '%s'),
  lastAdminKey: entry('LAST_ADMIN_KEY', 409, '%s'),
  invalidTransition: entry('INVALID_TRANSITION', 409, '%s'),
  articleKilled: entry('ARTICLE_KILLED', 409, '%s'),
  notEmbargoed: entry('NOT_EMBARGOED', 409, '%s'),
  articleGone: entry('ARTICLE_GONE', 410, '%s'),
  coverageEnded: entry('COVERAGE_ENDED', 409, '%s'),
  pinLimitReached: entry('PIN_LIMIT_REACHED', 409, '%s'),
  duplicateImage: entry('DUPLICATE_IMAGE', 409, '%s'),
  emptyUpload: entry('EMPTY_UPLOAD', 400, '%s'),
  uploadTooLarge: entry('UPLOAD_TOO_LARGE', 413, '%s'),
  unsupportedImageType: entry('UNSUPPORTED_IMAGE_TYPE', 415, '%s'),
  unsupportedMediaType: entry('UNSUPPORTED_MEDIA_TYPE', 415, '%s'),
  imageTooManyPixels: entry('IMAGE_TOO_MANY_PIXELS', 422, '%s'),
  imageUnreadable: entry('IMAGE_UNREADABLE', 422, '%s'),
  notAnUpload: entry('NOT_AN_UPLOAD', 409, '%s'),
  versionMismatch: entry('VERSION_MISMATCH', 412, '%s'),
  articleLocked: entry('ARTICLE_LOCKED', 423, '%s'),
  publicationBlocked: entry('PUBLICATION_BLOCKED', 409, '%s'),
  pendingRevisionOutdated: entry('PENDING_REVISION_OUTDATED', 409, '%s'),
  signoffNotAllowed: entry('SIGNOFF_NOT_ALLOWED', 403, '%s'),
  preconditionRequired: entry('PRECONDITION_REQUIRED', 428, '%s'),
  cursorExpired: entry('CURSOR_EXPIRED', 410, '%s'),
  tryAgain: entry('TRY_AGAIN', 503, '%s'),
  databaseUnavailable: entry('DATABASE_UNAVAILABLE', 503, '%s'),
  storageFull: entry('STORAGE_FULL', 507, '%s'),
  uploadQueueFull: entry('UPLOAD_QUEUE_FULL', 503, '%s'),
  notReady: entry('NOT_READY', 503, '%s')
} as const

export function withFieldErrors<E extends CatalogueError> (error: E, fieldErrors: FieldError[]): E {
  error.fieldErrors = fieldErrors
  return error
}

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 409: 'Conflict', 410: 'Gone', 412: 'Precondition Failed', 413: 'Content Too Large',
  415: 'Unsupported Media Type', 422: 'Unprocessable Content', 423: 'Locked', 428: 'Precondition Required',
  429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable', 507: 'Insufficient Storage'
}

function typeUri (code: string): string {
  return `https://copydesk.dev/problems/${code.toLowerCase().replace(/^fst_err_/, '').replace(/_/g, '-')}`
}

// Fastify's own request errors get stable codes of ours, so clients see one vocabulary.
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_CONTENT_LENGTH',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'EMPTY_JSON_BODY',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_BAD_URL: 'BAD_URL'
}

/** Every `code` a problem can carry, by HTTP status: the catalogue, and Fastify's request errors as renamed above. */
export function problemCodesByStatus (): Map<number, string[]> {
  const byStatus = new Map<number, string[]>()
  const add = (status: number, code: string): void => { byStatus.set(status, [...new Set([...(byStatus.get(status) ?? []), code])]) }
  for (const make of Object.values(errors)) {
    const error = new make()
    add(error.statusCode ?? 500, error.code)
  }
  for (const [fastifyCode, code] of Object.entries(FASTIFY_CODES)) {
    const make = (fastifyErrorCodes as Record<string, (new () => FastifyError) | undefined>)[fastifyCode]
    if (make !== undefined) add(new make().statusCode ?? 400, code)
  }
  return byStatus
}

type ValidationContext = 'body' | 'querystring' | 'params' | 'headers'
const PART_NAMES: Record<ValidationContext, FieldError['in']> = { body: 'body', querystring: 'query', params: 'params', headers: 'headers' }

function fieldErrorsOf (error: FastifyError): FieldError[] {
  const part = PART_NAMES[(error.validationContext ?? 'body') as ValidationContext] ?? 'body'
  const seen = new Set<string>()
  return (error.validation ?? []).map((issue) => {
    const params = issue.params as Record<string, unknown>
    let pointer = issue.instancePath
    if (issue.keyword === 'required' && typeof params.missingProperty === 'string') pointer += `/${params.missingProperty}`
    if (issue.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') pointer += `/${params.additionalProperty}`
    let message = issue.message ?? 'is invalid'
    if (issue.keyword === 'additionalProperties') message = 'is not a known property'
    if (issue.keyword === 'enum' && Array.isArray(params.allowedValues)) message = `must be one of ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
    if (issue.keyword === 'pattern' && typeof params.pattern === 'string') message = patternHints.get(params.pattern) ?? 'has an invalid format'
    if (issue.keyword === 'format' && params.format === 'uri') message = 'must be an absolute http:// or https:// URL with a host'
    return { in: part, pointer, message }
  }).filter((field) => {
    // One complaint per value: the first is the most telling (an empty string is "too short", not also "blank").
    if (seen.has(field.pointer)) return false
    seen.add(field.pointer)
    return true
  })
}

/** What a 503 tells clients to wait before retrying, unless its route says otherwise: a failover or restart takes seconds. */
const RETRY_AFTER_SECONDS = 2

/** The 503s and 507s that say what is unavailable; any other 5xx is an internal error, told nothing more. */
const UNAVAILABLE_CODES = new Set(['NOT_READY', 'TRY_AGAIN', 'DATABASE_UNAVAILABLE', 'UPLOAD_QUEUE_FULL', 'STORAGE_FULL'])

export function problemOf (error: FastifyError & CatalogueError, request: FastifyRequest): Problem {
  const instance = request.url.split('?')[0] ?? '/'
  if (error.validation !== undefined) {
    const fieldErrors = fieldErrorsOf(error)
    const detail = fieldErrors.map((field) => `${field.in}${field.pointer || ''} ${field.message}`).join('; ')
    return { type: typeUri('VALIDATION_FAILED'), title: STATUS_TITLES[400] as string, status: 400, detail, instance, code: 'VALIDATION_FAILED', errors: fieldErrors }
  }
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500
  if ((status === 503 || status === 507) && UNAVAILABLE_CODES.has(error.code)) {
    return { type: typeUri(error.code), title: STATUS_TITLES[status] as string, status, detail: error.message, instance, code: error.code }
  }
  if (status >= 500) {
    return { type: 'about:blank', title: STATUS_TITLES[500] as string, status: 500, detail: 'The server could not complete the request; it has been logged.', instance, code: 'INTERNAL_ERROR' }
  }
  const code = FASTIFY_CODES[error.code] ?? (error.code?.startsWith('FST_') === true ? error.code.replace(/^FST_ERR_/, '') : error.code) ?? 'BAD_REQUEST'
  const problem: Problem = {
    type: typeUri(code),
    title: STATUS_TITLES[status] ?? 'Error',
    status,
    detail: error.message,
    instance,
    code
  }
  if (error.fieldErrors !== undefined) problem.errors = error.fieldErrors
  if (error.currentVersion !== undefined) problem.currentVersion = error.currentVersion
  if (error.lease !== undefined) problem.lease = error.lease
  if (error.blockers !== undefined) problem.blockers = error.blockers
  return problem
}

/** For errors Fastify raises before routing (a URL it cannot decode): the same problem+json. */
export function frameworkErrorHandler (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  // Raised before routing, so before the hook that sets these on every other response.
  reply.headers(securityHeaders)
  void sendProblem(reply, problemOf(error as FastifyError & CatalogueError, request))
}

export function sendProblem (reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type('application/problem+json').send(problem)
}

/** Installs the error and not-found handlers: every failure leaves as problem+json. */
export function installErrorHandling (app: FastifyInstance, translate: (error: unknown) => unknown): void {
  app.setErrorHandler((thrown: FastifyError & CatalogueError, request, reply) => {
    const error = translate(thrown) as FastifyError & CatalogueError
    const problem = problemOf(error, request)
    if (problem.status === 507) request.log.error({ code: problem.code, cause: (error.cause as Error | undefined)?.message }, problem.detail)
    else if (problem.status === 503) {
      // Said to the client and counted, not a fault of this instance: no stack trace per request.
      request.log.warn({ code: problem.code, cause: (error.cause as Error | undefined)?.message }, problem.detail)
      if (!reply.hasHeader('retry-after')) void reply.header('retry-after', String(RETRY_AFTER_SECONDS))
    } else if (problem.status >= 500) request.log.error({ err: error }, 'request failed')
    else request.log.info({ code: problem.code, status: problem.status }, problem.detail)
    return sendProblem(reply, problem)
  })
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/'
    return sendProblem(reply, problemOf(errors.routeNotFound(`No route ${request.method} ${path}`) as CatalogueError, request))
  })
}

/**
 * OpenAPI responses for the given problem statuses, all sharing the Problem schema. 503 is always
 * included: any request can meet a busy database (TRY_AGAIN), an unreachable one (DATABASE_UNAVAILABLE)
 * or an unready one; each 503 carries Retry-After.
 */
export function problemResponses (...statuses: number[]): Record<number, unknown> {
  const responses: Record<number, unknown> = {}
  for (const status of new Set([...statuses, 503])) {
    responses[status] = {
      description: STATUS_TITLES[status] ?? 'Error',
      content: { 'application/problem+json': { schema: Type.Unsafe<Problem>({ $ref: 'Problem#' }) } }
    }
  }
  return responses
}
