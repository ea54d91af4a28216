// The newsroom desk around an article: edit leases and presence, sign-offs, preflight. Registered
// as a plugin without encapsulation, because presence also listens to staff reads of
// GET /articles/{id} (an onResponse hook: the reader never waits for it).
import fp from 'fastify-plugin'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { idParamsFor, IfMatchHeaders, Nullable, Timestamp, Uuid } from '../common-schemas.ts'
import { exampleIds } from '../examples.ts'
import { problemResponses } from '../errors.ts'
import { actorOf } from '../keys/routes.ts'
import { PreflightFinding } from './schemas.ts'
import { readPresence, releaseLease, takeLease, ViewRecorder } from './leases.ts'
import { giveSignoff, readSignoffs } from './signoffs.ts'
import { preflight } from './preflight.ts'
import { readOne } from './service.ts'

const tags = ['Newsroom desk']
const ArticleIdParams = idParamsFor(exampleIds.article)
const at = '2026-11-25T06:00:00.000Z'
const until = '2026-11-25T06:02:00.000Z'
const holderExample = { keyId: '019ab8a4-7777-7888-8999-aaaabbbbcccc', name: 'Morgan (night desk)' }

const Holder = Type.Object({
  keyId: Nullable(Uuid),
  name: Type.String({ description: 'The key\'s name' })
}, { title: 'KeyHolder', description: 'A staff key' })

const Lease = Type.Object({
  articleId: Uuid,
  holder: Holder,
  acquiredAt: Timestamp,
  expiresAt: Timestamp,
  enforced: Type.Boolean({ description: 'False when ARTICLE_LEASES=advisory: others\' writes are not refused' }),
  takenOverFrom: Nullable(Holder)
}, { title: 'ArticleLease', examples: [{ articleId: exampleIds.article, holder: holderExample, acquiredAt: at, expiresAt: until, enforced: true, takenOverFrom: null }] })

const Presence = Type.Object({
  articleId: Uuid,
  lease: Nullable(Lease),
  viewers: Type.Array(Type.Object({ keyId: Uuid, name: Type.String(), lastSeenAt: Timestamp }), { description: 'Staff keys that read the article within PRESENCE_WINDOW_SECONDS, most recent first' })
}, { title: 'ArticlePresence', examples: [{ articleId: exampleIds.article, lease: { articleId: exampleIds.article, holder: holderExample, acquiredAt: at, expiresAt: until, enforced: true, takenOverFrom: null }, viewers: [{ ...holderExample, lastSeenAt: at }] }] })

const Signoff = Type.Object({
  kind: Type.String(),
  version: Type.Integer({ minimum: 1, description: 'The article version it was given to' }),
  valid: Type.Boolean({ description: 'False once a later edit changed the content it approved' }),
  signedBy: Holder,
  createdAt: Timestamp
}, { title: 'Signoff' })

const SignoffState = Type.Object({
  articleId: Uuid,
  version: Type.Integer({ minimum: 1, description: 'The article\'s current version' }),
  required: Type.Array(Type.String(), { description: 'The kinds publication needs (REQUIRED_SIGNOFFS)' }),
  missing: Type.Array(Type.String(), { description: 'Required kinds without a valid sign-off: publishing or scheduling answers 409 until they have one' }),
  kinds: Type.Array(Type.Object({ kind: Type.String(), minimumRole: Type.String() }), { description: 'Every kind there is, and the least role that may give it (SIGNOFF_KINDS)' }),
  items: Type.Array(Signoff, { description: 'Every sign-off given, newest version first' })
}, {
  title: 'ArticleSignoffs',
  examples: [{ articleId: exampleIds.article, version: 2, required: ['copy', 'legal'], missing: ['legal'], kinds: [{ kind: 'copy', minimumRole: 'editor' }, { kind: 'legal', minimumRole: 'editor' }], items: [{ kind: 'copy', version: 2, valid: true, signedBy: holderExample, createdAt: at }] }]
})

const PreflightReport = Type.Object({
  articleId: Uuid,
  version: Type.Integer({ minimum: 1 }),
  publishable: Type.Boolean({ description: 'True when nothing blocks publication: no error and no missing sign-off' }),
  errors: Type.Array(PreflightFinding, { description: 'Findings that block publishing and scheduling (409 PUBLICATION_BLOCKED)' }),
  warnings: Type.Array(PreflightFinding, { description: 'Findings worth a look that do not block anything' }),
  missingSignoffs: Type.Array(Type.String())
}, {
  title: 'PreflightReport',
  examples: [{ articleId: exampleIds.article, version: 2, publishable: false, errors: [{ rule: 'alt-text', pointer: '/leadImage', message: 'the lead image has no alt text and is not marked decorative' }], warnings: [{ rule: 'dek-length', pointer: '/dek', message: 'the dek has 320 characters, more than 300' }], missingSignoffs: [] }]
})

const LeaseRequest = Type.Object({
  takeOver: Type.Optional(Type.Boolean({ description: 'Take the lease from its holder (editors and admins; audited as article.lease-taken-over)', default: false }))
}, { additionalProperties: false, title: 'LeaseRequest', examples: [{}, { takeOver: true }] })

export const SignoffRequest = Type.Object({
  kind: Type.String({ minLength: 1, maxLength: 40, description: 'One of the kinds in SIGNOFF_KINDS (by default copy, legal)', examples: ['copy'] })
}, { additionalProperties: false, title: 'SignoffRequest', examples: [{ kind: 'copy' }] })

const deskRoutesPlugin: FastifyPluginAsyncTypebox = async (app) => {
  const views = new ViewRecorder(app.db)
  app.addHook('onResponse', (request, reply, done) => {
    const actor = request.actor
    if (actor !== null && request.method === 'GET' && reply.statusCode === 200 && request.routeOptions.url === '/articles/:id') {
      views.record((request.params as { id: string }).id, actor).catch((error: unknown) => { request.log.warn({ err: error }, 'presence: could not record a view') })
    }
    done()
  })

  app.post('/articles/:id/lease', {
    config: { access: 'writer' },
    // A heartbeat may come without a body: it means {}.
    preValidation: async (request) => { request.body ??= {} },
    schema: {
      operationId: 'takeArticleLease',
      summary: 'Take, renew or take over the edit lease on an article',
      description: 'Takes the article\'s edit lease for ARTICLE_LEASE_TTL_SECONDS, or renews it when this key holds it already: an editing client sends it as a heartbeat. While the lease is held, writes to the article by other keys (PUT, PATCH, DELETE, corrections, restores, embargoes, pending revisions) answer 423 ARTICLE_LOCKED naming the holder and the expiry, unless ARTICLE_LEASES=advisory. A lease held by another key is 423 too, unless an editor or admin sends {"takeOver": true}: audited, and the previous holder\'s next write is refused, naming the new holder. A writer leases only its own drafts. Taking a lease (anew or over another key) and releasing it are audited and in the change log; heartbeats are not. The body may be left out.',
      tags,
      params: ArticleIdParams,
      body: LeaseRequest,
      response: { 200: { description: 'The lease, now held by this key', ...Lease }, ...problemResponses(400, 404, 413, 415, 423) }
    }
  }, async (request) => await takeLease(app.db, request.params.id, actorOf(request), request.body.takeOver === true))

  app.delete('/articles/:id/lease', {
    config: { access: 'writer' },
    schema: {
      operationId: 'releaseArticleLease',
      summary: 'Release this key\'s edit lease on an article',
      description: 'Ends this key\'s lease at once, so others may edit. Releasing when nobody holds the lease is fine (204); another key\'s live lease is 423 (take it over instead).',
      tags,
      params: ArticleIdParams,
      response: { 204: Type.Null({ description: 'Released' }), ...problemResponses(400, 404, 423) }
    }
  }, async (request, reply) => {
    await releaseLease(app.db, request.params.id, actorOf(request))
    return await reply.code(204).send(null)
  })

  app.get('/articles/:id/presence', {
    config: { access: 'writer' },
    schema: {
      operationId: 'getArticlePresence',
      summary: 'Who holds the edit lease on an article, and which staff read it lately',
      description: 'Returns the live lease (or null) and the staff keys that read the article (GET /articles/{id}) within PRESENCE_WINDOW_SECONDS, most recent first. Reads are recorded at most once a minute per key and instance, so lastSeenAt may trail by up to a minute.',
      tags,
      params: ArticleIdParams,
      response: { 200: Presence, ...problemResponses(400, 404) }
    }
  }, async (request) => await readPresence(app.db, request.params.id))

  app.get('/articles/:id/signoffs', {
    config: { access: 'writer' },
    schema: {
      operationId: 'listArticleSignoffs',
      summary: 'The sign-offs an article has, which are still valid, and which publication still needs',
      description: 'Lists every sign-off given to the article, each with the version it approved and whether it is still valid (a later content edit voids it; a change of status or publication time does not), the kinds REQUIRED_SIGNOFFS asks for and those still missing.',
      tags,
      params: ArticleIdParams,
      response: { 200: SignoffState, ...problemResponses(400, 404) }
    }
  }, async (request) => await readSignoffs(app.db, request.params.id))

  app.post('/articles/:id/signoffs', {
    config: { access: 'writer' },
    schema: {
      operationId: 'signOffArticle',
      summary: 'Sign off the article\'s current version (copy, legal, ...)',
      description: 'Records a sign-off of the given kind for the article\'s current version and returns the article\'s sign-offs (201; 200 when this kind was already given to this version). Each kind has a least role (SIGNOFF_KINDS; by default copy and legal need an editor): a lower one is 403 SIGNOFF_NOT_ALLOWED, an unknown kind 400 naming /kind. Send the ETag you read in If-Match to be sure you approve the version you read (412 otherwise). The article itself, its version and ETag do not change; the sign-off is audited.',
      tags,
      params: ArticleIdParams,
      headers: IfMatchHeaders,
      body: SignoffRequest,
      response: { 200: { description: 'Already signed off', ...SignoffState }, 201: { description: 'Signed off', ...SignoffState }, ...problemResponses(400, 404, 412, 413, 415) }
    }
  }, async (request, reply) => {
    const { state, created } = await giveSignoff(app.db, request.params.id, request.body.kind, actorOf(request), request.headers['if-match'])
    return await reply.code(created ? 201 : 200).send(state)
  })

  app.get('/articles/:id/preflight', {
    config: { access: 'writer' },
    schema: {
      operationId: 'getArticlePreflight',
      summary: 'Check an article before it goes live: errors block publishing, warnings do not',
      description: 'Runs the preflight rules on the article as it stands: the lead image has alt text or is marked decorative (alt-text), so has every image in the body (body-alt-text), every image has a credit (image-credit), headline and dek lengths (headline-length, dek-length: PREFLIGHT_HEADLINE_LENGTH, PREFLIGHT_DEK_LENGTH), and no link in the body leads to an article readers cannot open (unpublished-links: by its URL on SITE_URL or this API). PREFLIGHT_RULES makes each an error, a warning or off. Errors and missing sign-offs make publishing or scheduling answer 409 PUBLICATION_BLOCKED with the same list.',
      tags,
      params: ArticleIdParams,
      response: { 200: PreflightReport, ...problemResponses(400, 404) }
    }
  }, async (request) => await preflight(app.db, await readOne(app.db, request.params.id, actorOf(request))))
}

export const deskRoutes = fp(deskRoutesPlugin, { name: 'desk-routes', dependencies: ['access'] })
