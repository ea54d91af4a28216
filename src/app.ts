// Builds the Fastify app from a Config. It never listens: server.ts does, and tests inject.
import type { Socket } from 'node:net'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Config } from './config.ts'
import { errors, frameworkErrorHandler, installErrorHandling, ProblemSchema, problemResponses, withFieldErrors, type CatalogueError } from './errors.ts'
import { expectedMigrations } from './db/schema-engine.ts'
import { translateDatabaseError } from './db/errors.ts'
import { buildSerializerCompiler, buildValidatorCompiler, illFormedStringPointer } from './validation.ts'
import { installJsonBodyParser } from './json-body.ts'
import database from './plugins/database.ts'
import openapi from './plugins/openapi.ts'
import { ImageSchema } from './images/schemas.ts'
import { AuthorPageSchema, AuthorSchema, AuthorSummarySchema } from './authors/schemas.ts'
import { ArticleSchema, ArticleSummarySchema, CorrectionSchema } from './articles/schemas.ts'
import { BodyBlock } from './articles/body.ts'
import { MastheadRoleSchema } from './masthead/schemas.ts'
import { imageRoutes } from './images/routes.ts'
import { authorRoutes } from './authors/routes.ts'
import { articleRoutes } from './articles/routes.ts'
import { deskRoutes } from './articles/desk-routes.ts'
import { pendingRoutes } from './articles/pending-routes.ts'
import { mastheadRoutes } from './masthead/routes.ts'
import { webhookRoutes, webhookSchemas } from './webhooks/routes.ts'
import background from './plugins/background.ts'
import access from './plugins/access.ts'
import storage from './plugins/storage.ts'
import httpCache from './plugins/http-cache.ts'
import readModel from './plugins/read-model.ts'
import compress from '@fastify/compress'
import { keyRoutes, keySchemas } from './keys/routes.ts'
import { auditRoutes, auditSchemas } from './audit/routes.ts'
import { deliveryRoutes } from './delivery/routes.ts'
import { taxonomyRoutes } from './taxonomy/routes.ts'
import { searchRoutes } from './search/routes.ts'
import { SectionSchema, TagSchema } from './taxonomy/schemas.ts'
import { changeRoutes, changeSchemas } from './changes/routes.ts'
import { changeStreamPlugin } from './changes/stream.ts'
import { liveRoutes } from './live/routes.ts'

/** Schemas with an $id: named components in the OpenAPI document, referenced by routes. */
const sharedSchemas = [ProblemSchema, SectionSchema, TagSchema, ImageSchema, AuthorSummarySchema, AuthorSchema, BodyBlock, ArticleSummarySchema, CorrectionSchema, ArticleSchema, AuthorPageSchema, MastheadRoleSchema, ...webhookSchemas, ...keySchemas, ...auditSchemas, ...changeSchemas]

const DatabaseConnectionSchema = Type.Object({
  name: Type.String({ description: 'primary, or replica-N: the Nth URL of DATABASE_READ_URL' }),
  role: Type.Union([Type.Literal('primary'), Type.Literal('replica')]),
  state: Type.Union([Type.Literal('up'), Type.Literal('lagging'), Type.Literal('down')], { description: 'up: in use; lagging: lag over DATABASE_READ_MAX_LAG_MS; down: does not answer. Lagging or down replicas are skipped' }),
  lagMs: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'Replicas: lag at the last check (every DATABASE_READ_CHECK_INTERVAL_MS), in milliseconds: how long ago this instance first saw on the primary the oldest public change the replica has not replayed (0: none); null before the first check answered' })),
  publicReads: Type.Integer({ minimum: 0, description: 'Keyless public reads of stored documents this connection answered since the instance started' })
})

const ReadinessSchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('degraded')], { description: 'degraded: a read replica is lagging or down, and the primary answers its reads' }),
  databases: Type.Array(DatabaseConnectionSchema)
}, {
  title: 'Readiness',
  examples: [
    { status: 'ready', databases: [{ name: 'primary', role: 'primary', state: 'up', publicReads: 0 }] },
    { status: 'degraded', databases: [{ name: 'primary', role: 'primary', state: 'up', publicReads: 118 }, { name: 'replica-1', role: 'replica', state: 'up', lagMs: 0, publicReads: 20416 }, { name: 'replica-2', role: 'replica', state: 'down', lagMs: 40, publicReads: 9950 }] }
  ]
})

function trustProxyOption (setting: string): boolean | string[] {
  if (setting === 'false') return false
  if (setting === 'true') return true
  // Fastify also takes a hop count (its types omit it).
  if (/^\d+$/.test(setting)) return Number(setting) as unknown as boolean
  return setting.split(',').map((address) => address.trim()).filter(Boolean)
}

/** What a log line says about a request: never its headers, and preview links without their token. */
function requestForLog (request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: request.url.replace(/\/preview\/[^/?#]+/, '/preview/[redacted]'),
    host: request.host,
    remoteAddress: request.ip
  }
}

/**
 * Node looks for requests past HEADERS_TIMEOUT_MS or REQUEST_TIMEOUT_MS only this often (30 s by
 * default, which let a stalled client stay up to 30 s longer than configured): a tenth of the shorter
 * timeout, between 50 ms and a second, keeps them within a second of the configured values.
 */
function connectionsCheckingInterval (config: Pick<Config, 'headersTimeoutMs' | 'requestTimeoutMs'>): number {
  const timeouts = [config.headersTimeoutMs, config.requestTimeoutMs].filter((timeout) => timeout > 0)
  if (timeouts.length === 0) return 1000
  return Math.max(50, Math.min(1000, Math.floor(Math.min(...timeouts) / 10)))
}

/**
 * A client too slow with its headers or body, or sending what is not HTTP: answered in the same
 * problem+json as everything else (Fastify's default writes its own JSON), then disconnected.
 */
function clientErrorHandler (error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW'
  const status = timedOut ? 408 : tooLarge ? 431 : 400
  const problem = timedOut
    ? { code: 'REQUEST_TIMEOUT', title: 'Request Timeout', detail: 'The request did not arrive in time (HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS)' }
    : tooLarge
      ? { code: 'HEADERS_TOO_LARGE', title: 'Request Header Fields Too Large', detail: 'The request headers are too large' }
      : { code: 'BAD_REQUEST', title: 'Bad Request', detail: 'The request is not well-formed HTTP' }
  // The request's path where its head arrived (a slow body); none when it never did.
  const url = (socket as Socket & { parser?: { incoming?: { url?: string } | null } }).parser?.incoming?.url
  const body = JSON.stringify({ type: `https://copydesk.dev/problems/${problem.code.toLowerCase().replace(/_/g, '-')}`, title: problem.title, status, detail: problem.detail, instance: url?.split('?')[0], code: problem.code })
  // Once a response has begun on this connection, another one cannot be written into it.
  const responseBegun = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true
  if (socket.writable && !responseBegun) {
    socket.write(`HTTP/1.1 ${status} ${problem.title}\r\nConnection: close\r\nContent-Type: application/problem+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  }
  socket.destroy(error)
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Shutdown has begun: /ready answers 503 and every answer closes its connection; requests are still served. */
    startDraining: () => void
  }
}

export async function buildApp (config: Config): Promise<FastifyInstance> {
  const app = Fastify({
    trustProxy: trustProxyOption(config.trustProxy),
    logger: config.logLevel === 'silent' ? false : { level: config.logLevel, serializers: { req: requestForLog } },
    bodyLimit: config.bodyLimit,
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    http: { headersTimeout: config.headersTimeoutMs, connectionsCheckingInterval: connectionsCheckingInterval(config) },
    clientErrorHandler,
    // Opening the database applies pending migrations, which may take minutes on a large archive
    // (rebuilding a search index): Fastify's 10 s would stop the server half-way.
    pluginTimeout: 30 * 60_000,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    genReqId: () => crypto.randomUUID(),
    requestIdHeader: false,
    frameworkErrors: frameworkErrorHandler,
    // A request that reaches a closing instance on a kept-alive connection is served, not refused
    // with 503: the shutdown must not fail anyone. Its answer closes the connection (below).
    return503OnClosing: false
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.decorate('config', config)
  for (const schema of sharedSchemas) app.addSchema(schema)
  app.setValidatorCompiler(buildValidatorCompiler(sharedSchemas))
  app.setSerializerCompiler(buildSerializerCompiler(sharedSchemas))
  // A documented route that takes no query parameters says so: `?bogus=1` is then a 400 there too,
  // as on the routes that take some (tracking parameters are dropped before validation, in
  // plugins/http-cache.ts). Swagger UI's own files (hidden) are left alone.
  app.addHook('onRoute', (route) => {
    const schema = route.schema as { querystring?: unknown, hide?: boolean, response?: Record<string, unknown> } | undefined
    if (schema === undefined || schema.hide === true || schema.querystring !== undefined) return
    schema.querystring = { type: 'object', properties: {}, additionalProperties: false }
    schema.response = { ...problemResponses(400), ...schema.response }
  })
  installErrorHandling(app, translateDatabaseError)

  // JSON only: text/plain would otherwise reach validation and read as a confusing 400.
  app.removeContentTypeParser(['text/plain'])
  installJsonBodyParser(app)
  let closing = false
  app.decorate('startDraining', () => { closing = true })
  app.addHook('preClose', (done) => {
    closing = true
    // Node's server.close() would also cut every connection that looks idle, including one whose
    // next request is already on its way, unread: the client gets a reset for a request it sent.
    // Instead idle connections end by their keep-alive timeout, or after their next answer (which
    // says Connection: close), and close() waits for them.
    app.server.closeIdleConnections = () => {}
    done()
  })
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id)
    // While shutting down, clients are told to take their next request elsewhere.
    if (closing) reply.header('connection', 'close')
    done(null, payload)
  })
  app.addHook('preValidation', async (request) => {
    const pointer = illFormedStringPointer(request.body)
    if (pointer !== null) {
      throw withFieldErrors(errors.validationFailed(`body${pointer} contains an unpaired UTF-16 surrogate, which is not text`) as CatalogueError,
        [{ in: 'body', pointer, message: 'contains an unpaired UTF-16 surrogate, which is not text' }])
    }
  })

  await app.register(openapi)
  await app.register(database, { config })
  await app.register(access)
  await app.register(storage)
  await app.register(httpCache)
  await app.register(readModel)
  // After the cache (hooks run in order): ETags are computed on, and responses cached as, the JSON itself.
  await app.register(compress, { encodings: ['br', 'gzip'], threshold: 1024 })

  app.get('/', {
    config: { access: 'public' },
    schema: {
      operationId: 'getApiRoot',
      summary: 'Where to start: links to the documentation and the OpenAPI document',
      description: 'The API\'s front door, for a person or a client that only knows the server\'s address: where the interactive documentation (Swagger UI) and the OpenAPI 3.1 document are.',
      tags: ['Operations'],
      response: {
        200: Type.Object({
          name: Type.String(),
          docs: Type.String({ description: 'Swagger UI: every operation, with "Try it out"' }),
          openapi: Type.String({ description: 'The OpenAPI 3.1 document, for code generators' }),
          health: Type.String({ description: 'Liveness; /ready for readiness' })
        }, { title: 'ApiRoot', examples: [{ name: 'Copydesk API', docs: '/docs', openapi: '/openapi.json', health: '/health' }] })
      }
    }
  }, async (_request, reply) => {
    reply.header('link', '</docs>; rel="service-doc", </openapi.json>; rel="service-desc"; type="application/openapi+json"')
    return { name: 'Copydesk API', docs: '/docs', openapi: '/openapi.json', health: '/health' }
  })

  app.get('/health', {
    config: { access: 'public' },
    schema: {
      operationId: 'getHealth', summary: 'Liveness: the process is up', description: 'Answers 200 as long as the process is running, without touching the database: use it as a liveness probe. Whether requests can actually be served is GET /ready.', tags: ['Operations'],
      response: { 200: Type.Object({ status: Type.Literal('ok') }, { examples: [{ status: 'ok' }] }) }
    }
  }, async () => ({ status: 'ok' as const }))

  app.get('/ready', {
    config: { access: 'public' },
    schema: {
      operationId: 'getReadiness',
      summary: 'Readiness: the database answers and every migration is applied; each database connection\'s state',
      description: 'Answers 200 when the primary database responds and every migration this version expects is applied, and 503 (NOT_READY) saying what is missing otherwise. Use it as a readiness probe or a load balancer\'s health check. ' +
        'It also lists each database connection: the primary, and each read replica of DATABASE_READ_URL with its state (up; lagging: further behind than DATABASE_READ_MAX_LAG_MS; down) and lag, and how many keyless public reads each has answered. ' +
        'A replica that is lagging or down does not make the instance unready (its reads go to the primary): the status says degraded instead of ready, still with 200.',
      tags: ['Operations'],
      response: { 200: ReadinessSchema, ...problemResponses(503) }
    }
  }, async () => {
    if (closing) throw errors.notReady('The instance is shutting down')
    const applied = await app.db.$queryRawUnsafe<Array<{ migration_name: string }>>(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL'
    ).catch((error: unknown) => {
      app.log.warn({ err: error }, 'readiness check: database unreachable')
      throw errors.notReady('The database does not answer')
    })
    const appliedNames = new Set(applied.map((row) => row.migration_name))
    const missing = expectedMigrations(app.dbProvider).filter((name) => !appliedNames.has(name))
    if (missing.length > 0) throw errors.notReady(`Migrations not applied: ${missing.join(', ')}`)
    const { publicReadsOnPrimary, replicas } = app.publicReads.report()
    const primary = { name: 'primary', role: 'primary' as const, state: 'up' as const, publicReads: publicReadsOnPrimary }
    return { status: replicas.every((replica) => replica.state === 'up') ? 'ready' as const : 'degraded' as const, databases: [primary, ...replicas] }
  })

  // Before the article routes: presence listens to their staff reads.
  await app.register(deskRoutes)
  await app.register(pendingRoutes)
  await app.register(articleRoutes)
  await app.register(authorRoutes)
  await app.register(imageRoutes)
  await app.register(mastheadRoutes)
  await app.register(taxonomyRoutes)
  await app.register(searchRoutes)
  await app.register(webhookRoutes)
  await app.register(keyRoutes)
  await app.register(auditRoutes)
  await app.register(deliveryRoutes)
  await app.register(changeStreamPlugin)
  await app.register(changeRoutes)
  await app.register(liveRoutes)
  await app.register(background)
  return app
}
