import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { IdParams, Page } from '../common-schemas.ts'
import { errors, problemResponses } from '../errors.ts'
import { ApiKeyCreate, ApiKeySchema, ApiKeyWithSecret, CurrentKey, KeyListQuery } from './schemas.ts'
import * as keys from './service.ts'
import type { Actor } from './roles.ts'

const tags = ['Access']
const KeyRef = Type.Unsafe({ $ref: 'ApiKey#' })
export const keySchemas = [ApiKeySchema]

/** The route's access rule guarantees a key; this narrows the type for the handler. */
export function actorOf (request: { actor: Actor | null }): Actor {
  if (request.actor === null) throw errors.authenticationRequired('This needs a key')
  return request.actor
}

export const keyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/me', {
    config: { access: 'writer' },
    schema: { operationId: 'getCurrentKey', summary: 'The key this request was made with: its name and role', description: 'Returns the key this request was made with: its id, name, role and, for a writer, its author. Use it to check that a key works and what it may do.', tags, response: { 200: CurrentKey } }
  }, async (request) => {
    const actor = actorOf(request)
    return { id: actor.keyId as string, name: actor.keyName, role: actor.role as 'writer', authorId: actor.authorId }
  })

  app.get('/keys', {
    config: { access: 'admin' },
    schema: { operationId: 'listKeys', summary: 'List API keys (never their secrets), with when each was last used', description: 'Returns a page of API keys, oldest first, with their names, roles, prefixes and when each was last used; the secrets themselves are never shown. revoked=true or false narrows the list.', tags, querystring: KeyListQuery, response: { 200: Page(KeyRef, 'ApiKey'), ...problemResponses(400) } }
  }, async (request) => await keys.readMany(app.db, request.query))

  app.post('/keys', {
    config: { access: 'admin' },
    schema: {
      operationId: 'createKey',
      summary: 'Create an API key; the response holds the key itself, this once',
      description: 'Creates a key with the given role and returns it, secret included, in this response only: it cannot be shown again. A writer\'s key names the author whose drafts it may edit.',
      tags,
      body: ApiKeyCreate,
      response: { 201: ApiKeyWithSecret, ...problemResponses(400, 413, 415) }
    }
  }, async (request, reply) => {
    const key = await keys.createOne(app.db, request.body, actorOf(request))
    return await reply.code(201).header('location', `/keys/${key.id}`).header('cache-control', 'no-store').send(key)
  })

  app.get('/keys/:id', {
    config: { access: 'admin' },
    schema: { operationId: 'getKey', summary: 'Read an API key (never its secret)', description: 'Returns one API key\'s name, role, prefix and when it was last used, never its secret.', tags, params: IdParams, response: { 200: KeyRef, ...problemResponses(400, 404) } }
  }, async (request) => await keys.readOne(app.db, request.params.id))

  app.delete('/keys/:id', {
    config: { access: 'admin' },
    schema: {
      operationId: 'revokeKey',
      summary: 'Revoke an API key: it is refused from the next request on (the record stays for the audit trail); the last active admin key cannot be revoked (409)',
      description: 'Revokes the key: requests made with it are refused (401) from then on, and its record stays for the audit trail. The last active admin key cannot be revoked (409), so the API never locks itself out.',
      tags,
      params: IdParams,
      response: { 204: Type.Null({ description: 'Revoked' }), ...problemResponses(400, 404, 409) }
    }
  }, async (request, reply) => {
    await keys.revokeOne(app.db, request.params.id, actorOf(request))
    return await reply.code(204).send(null)
  })
}
