// Authentication and authorization, decided in one place. Every route declares who may call it
// (`config.access`); the decision is taken in onRequest from the route Fastify matched, before
// the body is even read, so no path variant or content type can route around it. Also: rate
// limits, CORS and security headers.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import cors from '@fastify/cors'
import rateLimit from '@fastify/rate-limit'
import { errors, problemResponses } from '../errors.ts'
import { securityHeaders } from '../security-headers.ts'
import { accessLevels, allows, rolesAllowed, type Access, type Actor } from '../keys/roles.ts'
import { authenticate, ensureBootstrapKey, ensureFirstKey } from '../keys/service.ts'
import { databaseRateLimitStore } from '../keys/rate-limit-store.ts'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route: "public", or the least role a key needs. Required on every documented route. */
    access?: Access
  }
  interface FastifyRequest {
    /** The key's holder, or null for a request without a key. */
    actor: Actor | null
  }
}

type Limiter = ReturnType<FastifyInstance['createRateLimit']>

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])
const MINUTE = 60_000

/** "Bearer <token>" (the scheme is case-insensitive, RFC 9110); anything else is not a key. */
function bearerToken (header: string): string | null {
  const match = /^Bearer +([^\s]+) *$/i.exec(header)
  return match?.[1] ?? null
}

const ROLE_NOTE: Record<Access, string> = {
  public: 'Anyone may call this, without a key. Staff keys see drafts too.',
  writer: 'Needs a key: writer (own drafts only), editor or admin.',
  editor: 'Needs an editor or admin key.',
  admin: 'Needs an admin key.'
}

/** Documents a route's access rule in its OpenAPI operation: security, allowed roles, 401/403/429. */
function documentAccess (route: RouteOptions, access: Access): void {
  const schema = (route.schema ?? {}) as Record<string, unknown> & { response?: Record<string, unknown>, description?: string }
  if (schema['x-copydesk-access'] !== undefined) return // the HEAD twin of a GET route shares its schema
  schema.security = access === 'public' ? [{}, { bearerAuth: [] }] : [{ bearerAuth: [] }]
  schema['x-copydesk-access'] = access
  schema['x-copydesk-roles'] = rolesAllowed(access)
  schema.description = [schema.description, ROLE_NOTE[access]].filter(Boolean).join('\n\n')
  schema.response = { ...problemResponses(...(access === 'public' ? [401, 429] : [401, 403, 429])), ...schema.response }
  route.schema = schema
}

export default fp(async (app) => {
  const { config } = app
  app.decorateRequest('actor', null)

  app.addHook('onRoute', (route) => {
    const access = route.config?.access
    const hidden = (route.schema as { hide?: boolean } | undefined)?.hide === true
    if (access === undefined) {
      // Only undocumented plumbing (Swagger UI's files, the document itself) may stay silent.
      if (!hidden) throw new Error(`Route ${String(route.method)} ${route.url} does not declare config.access`)
      return
    }
    if (!accessLevels.includes(access)) throw new Error(`Route ${String(route.method)} ${route.url}: unknown access "${String(access)}"`)
    if (!hidden) documentAccess(route, access)
  })

  // Callback-style hooks here and below: no promise per request for a few header writes.
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(securityHeaders)
    done()
  })

  const origins = config.corsOrigins.split(',').map((origin) => origin.trim()).filter(Boolean)
  if (origins.length > 0) {
    await app.register(cors, {
      origin: origins.includes('*') ? '*' : origins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'If-Match', 'If-None-Match'],
      exposedHeaders: ['ETag', 'Location', 'Retry-After', 'X-Request-Id'],
      maxAge: 600
    })
  }

  // Reads count per instance, in memory, on purpose: the limit is generous, and a shared counter
  // would cost a database write per read. Staff count per key, the public per address. (Registered first: the plugin decorates once per context.)
  let readLimiter!: Limiter
  await app.register(async (local) => {
    await local.register(rateLimit, { global: false })
    readLimiter = local.createRateLimit({ max: config.readRateLimit, timeWindow: MINUTE, keyGenerator: (request) => `read:${request.actor?.keyId ?? request.ip}` })
  })
  const shared = config.rateLimitStore === 'database' || (config.rateLimitStore === 'auto' && app.dbProvider === 'postgresql')
  await app.register(rateLimit, { global: false, ...(shared ? { store: databaseRateLimitStore(app.db) } : {}) })
  const writeLimiter = app.createRateLimit({ max: config.writeRateLimit, timeWindow: MINUTE, keyGenerator: (request) => `write:${request.actor?.keyId ?? request.ip}` })
  const failureLimiter = app.createRateLimit({ max: config.authFailureLimit, timeWindow: 15 * MINUTE, keyGenerator: (request) => `auth-failure:${request.ip}` })

  function refuseAsTooMany (reply: FastifyReply, ttlInSeconds: number, detail: string): never {
    reply.header('retry-after', Math.max(1, ttlInSeconds))
    throw errors.tooManyRequests(detail)
  }

  async function enforce (limiter: Limiter, max: number, request: FastifyRequest, reply: FastifyReply, what: string): Promise<void> {
    if (max === 0) return
    const limit = await limiter(request)
    if (limit.isAllowed) return // on an allow list (none is configured)
    reply.header('ratelimit-limit', limit.max).header('ratelimit-remaining', limit.remaining).header('ratelimit-reset', limit.ttlInSeconds)
    if (limit.isExceeded) refuseAsTooMany(reply, limit.ttlInSeconds, `Too many ${what}: at most ${limit.max} per ${limit.timeWindow / MINUTE} minute(s). Retry in ${limit.ttlInSeconds} s.`)
  }

  app.addHook('onRequest', async (request, reply) => {
    const header = request.headers.authorization
    if (header !== undefined && header !== '') {
      // A valid key is served even from an address over its failure limit: one guesser behind a
      // newsroom's shared address must not lock the newsroom out. Only the address's further
      // failures are refused. Every key is checked the same way, whatever the address's history:
      // one SHA-256 and one lookup by that hash (never a comparison a guess could time); the
      // failure count is touched only once the key turned out not to be valid.
      const token = bearerToken(header)
      const actor = token === null ? null : await authenticate(app.db, token)
      if (actor === null) {
        // Counted atomically: of many concurrent wrong guesses, only the first few get an answer.
        if (config.authFailureLimit > 0) {
          const failures = await failureLimiter(request)
          if (!failures.isAllowed && failures.isExceeded) refuseAsTooMany(reply, failures.ttlInSeconds, `Too many failed authentications from this address; retry in ${failures.ttlInSeconds} s. Valid keys are still served.`)
        }
        reply.header('www-authenticate', 'Bearer error="invalid_token"')
        throw errors.invalidKey(token === null
          ? 'The Authorization header must be "Bearer <key>"'
          : 'The key is not valid: it is unknown or has been revoked')
      }
      request.actor = actor
      // Responses to staff may hold drafts: no shared cache may keep them.
      reply.header('cache-control', 'private, no-store')
    }
    const access = request.routeOptions.config?.access ?? 'public'
    if (!allows(access, request.actor)) {
      if (request.actor === null) {
        reply.header('www-authenticate', 'Bearer')
        throw errors.authenticationRequired(`${request.method} ${request.routeOptions.url ?? ''} needs a key: send "Authorization: Bearer <key>"`)
      }
      throw errors.roleNotAllowed(`A ${request.actor.role} key may not ${request.method} ${request.routeOptions.url ?? ''}; it needs ${rolesAllowed(access).join(' or ')}`)
    }
    if (SAFE_METHODS.has(request.method)) await enforce(readLimiter, config.readRateLimit, request, reply, 'reads from this address')
    else await enforce(writeLimiter, config.writeRateLimit, request, reply, 'writes with this key')
  })

  app.addHook('onSend', (_request, reply, payload, done) => {
    const vary = reply.getHeader('vary')
    reply.header('vary', vary === undefined ? 'Authorization' : `${String(vary)}, Authorization`)
    done(null, payload)
  })

  app.addHook('onReady', async () => {
    if (config.bootstrapKey !== '') {
      const warning = await ensureBootstrapKey(app.db, config.bootstrapKey)
      if (warning !== null) app.log.warn(warning)
    }
    const first = await ensureFirstKey(app.db)
    if (first !== null) {
      // The one time a key is logged: an empty database has no other way to hand out the first one.
      app.log.warn(`Created the first admin key; it is shown this once, store it now: ${first}`)
    }
  })
}, { name: 'access', dependencies: ['database'] })
