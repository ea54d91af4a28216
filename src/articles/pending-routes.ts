// Editing a live story: the pending revision of a published article (articles/pending.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { Type } from 'typebox'
import { reservedSlugsOf } from '../config.ts'
import { idParamsFor, IfMatchHeaders } from '../common-schemas.ts'
import { exampleIds } from '../examples.ts'
import { problemResponses } from '../errors.ts'
import { actorOf } from '../keys/routes.ts'
import { discardPending, pendingEtagOf, publishPending, readPending, signOffPending, writePending } from './pending.ts'
import { PendingRevisionPatch, PendingRevisionReplace, PendingRevisionState, type PendingInput } from './schemas.ts'
import { sendArticle, withEtag, writeProblems } from './routes.ts'
import { SignoffRequest } from './desk-routes.ts'

const tags = ['Pending revisions']
const ArticleIdParams = idParamsFor(exampleIds.article)
const pendingEtag = { ETag: { type: 'string', description: 'The pending revision\'s ETag ("pending-<version>"), when there is one: send it in If-Match to edit, sign off, publish or discard it safely' } }
const stateResponse = (description: string) => ({ description, headers: pendingEtag, ...PendingRevisionState })

function sendState (reply: FastifyReply, state: PendingRevisionState, status = 200): FastifyReply {
  if (state.pending !== null) reply.header('etag', pendingEtagOf(state.pending.version))
  return reply.code(status).send(state)
}

export const pendingRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const reservedSlugs = reservedSlugsOf(app.config)

  app.get('/articles/:id/pending', {
    config: { access: 'writer' },
    schema: {
      operationId: 'getArticlePendingRevision',
      summary: 'Read the pending revision of a live story (null when it has none)',
      description: 'Staff read both versions of a live story: GET /articles/{id} shows the live one, this the edits waiting to replace it (`pending`, null when there are none), with the sign-offs given to them and those still missing. The public never sees a pending revision.',
      tags,
      params: ArticleIdParams,
      response: { 200: stateResponse('The pending revision, if any'), ...problemResponses(400, 404) }
    }
  }, async (request, reply) => sendState(reply, await readPending(app.db, request.params.id)))

  // PUT replaces the whole content, PATCH changes the fields sent: one service call, two modes.
  const writes = [{
    method: 'PUT' as const,
    mode: 'replace' as const,
    body: PendingRevisionReplace,
    operationId: 'replaceArticlePendingRevision',
    summary: 'Write the whole pending revision of a live story',
    description: 'Edits a published article without touching what the public reads: the content sent becomes its pending revision (created, 201, or replaced, 200; optional fields left out are cleared, as with PUT /articles/{id}), while the live version stays public, unchanged, on every route. Publish it with POST /articles/{id}/pending/publish. A plain PUT or PATCH of /articles/{id} still edits the live version at once. Only a published article has a pending revision (409 otherwise; 409 ARTICLE_KILLED once killed); edit leases apply (423); any edit clears the pending revision\'s sign-offs. Send its ETag ("pending-<version>") in If-Match to edit the version you read (412 otherwise; any If-Match is 412 while there is none). A new slug is checked now and redirects from the old one once published.',
    responses: { 200: stateResponse('The pending revision, replaced'), 201: stateResponse('The pending revision, created') }
  }, {
    method: 'PATCH' as const,
    mode: 'merge' as const,
    body: PendingRevisionPatch,
    operationId: 'updateArticlePendingRevision',
    summary: 'Change some fields of the pending revision of a live story',
    description: 'As PUT /articles/{id}/pending, changing only the fields sent: the first PATCH starts the pending revision from the live content (201), later ones edit it (200).',
    responses: { 200: stateResponse('The pending revision, edited'), 201: stateResponse('The pending revision, started from the live content') }
  }]
  for (const write of writes) {
    app.route({
      method: write.method,
      url: '/articles/:id/pending',
      config: { access: 'editor' },
      schema: {
        operationId: write.operationId,
        summary: write.summary,
        description: write.description,
        tags,
        params: ArticleIdParams,
        headers: IfMatchHeaders,
        body: write.body,
        response: { ...write.responses, ...writeProblems }
      },
      handler: async (request, reply) => {
        const { state, created } = await writePending(app.db, request.params.id, request.body as PendingInput, write.mode, actorOf(request), request.headers['if-match'], reservedSlugs, app.config.requireIfMatch)
        return sendState(reply, state, created ? 201 : 200)
      }
    })
  }

  app.delete('/articles/:id/pending', {
    config: { access: 'editor' },
    schema: {
      operationId: 'discardArticlePendingRevision',
      summary: 'Discard the pending revision of a live story',
      description: 'Drops the edits waiting to replace the live version, which stays as it is. Nothing to discard is fine (204), unless If-Match names a pending revision that is gone (412). Edit leases apply (423). Audited.',
      tags,
      params: ArticleIdParams,
      headers: IfMatchHeaders,
      response: { 204: Type.Null({ description: 'Discarded, or there was none' }), ...problemResponses(400, 404, 412, 423, 428) }
    }
  }, async (request, reply) => {
    await discardPending(app.db, request.params.id, actorOf(request), request.headers['if-match'], app.config.requireIfMatch)
    return await reply.code(204).send(null)
  })

  app.post('/articles/:id/pending/signoffs', {
    config: { access: 'writer' },
    schema: {
      operationId: 'signOffArticlePendingRevision',
      summary: 'Sign off the pending revision of a live story (copy, legal, ...)',
      description: 'Records a sign-off of the given kind for the pending revision as it stands (201; 200 when this kind was given already). Publishing it needs every kind in REQUIRED_SIGNOFFS; the sign-offs then become the new live version\'s, and any edit of the pending revision clears them. The least role per kind applies as for POST /articles/{id}/signoffs (403 SIGNOFF_NOT_ALLOWED; an unknown kind is 400 naming /kind); If-Match with the pending revision\'s ETag makes sure you approve what you read (412). No pending revision is 404 PENDING_REVISION_NOT_FOUND.',
      tags,
      params: ArticleIdParams,
      headers: IfMatchHeaders,
      body: SignoffRequest,
      response: { 200: stateResponse('Already signed off'), 201: stateResponse('Signed off'), ...problemResponses(400, 403, 404, 412, 413, 415) }
    }
  }, async (request, reply) => {
    const { state, created } = await signOffPending(app.db, request.params.id, request.body.kind, actorOf(request), request.headers['if-match'])
    return sendState(reply, state, created ? 201 : 200)
  })

  app.post('/articles/:id/pending/publish', {
    config: { access: 'editor' },
    schema: {
      operationId: 'publishArticlePendingRevision',
      summary: 'Publish the pending revision: it replaces the live version in one step',
      description: 'The pending revision becomes the live article in one transaction: a new version and revision, the public read model, search, cache purges, the audit entry and webhooks (article.updated) all move together, so the public sees either the old version or the new one, never a mix. A new slug leaves the old one redirecting (308). Gated as a publication: missing sign-offs of the pending revision (POST /articles/{id}/pending/signoffs) or preflight errors of its content are 409 PUBLICATION_BLOCKED listing them, and nothing changes. Send the pending revision\'s ETag in If-Match (412 when it moved on; 428 without it when REQUIRE_IF_MATCH is on); edit leases apply (423); no pending revision is 404 PENDING_REVISION_NOT_FOUND; an article no longer published is 409 (its pending revision is kept: discard it, or edit the article directly). When the live version was edited after the pending revision was last written (its baseVersion), publishing would undo those edits, so it is 409 PENDING_REVISION_OUTDATED: write the pending revision again (PUT or PATCH) or discard it. Returns the live article and its ETag.',
      tags,
      params: ArticleIdParams,
      headers: IfMatchHeaders,
      response: { 200: withEtag('The article, live with the pending revision\'s content'), ...problemResponses(400, 404, 409, 412, 423, 428, 503) }
    }
  }, async (request, reply) => sendArticle(reply, await publishPending(app.db, request.params.id, actorOf(request), request.headers['if-match'], reservedSlugs, app.config.requireIfMatch)))
}
