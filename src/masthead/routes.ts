import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { idParamsFor } from '../common-schemas.ts'
import { exampleIds } from '../examples.ts'
import { actorOf } from '../keys/routes.ts'
import { problemResponses } from '../errors.ts'
import { MastheadRoleCreate, MastheadRolePatch, MastheadRoleRef, MastheadSchema } from './schemas.ts'
import * as masthead from './service.ts'
import { sendStoredPage } from '../read-model/reads.ts'
import { MASTHEAD } from '../read-model/documents.ts'

const tags = ['Masthead']
const RoleIdParams = idParamsFor(exampleIds.role)

export const mastheadRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/masthead', {
    config: { access: 'public', cache: 'masthead' },
    schema: {
      operationId: 'getMasthead', summary: 'The masthead: every staff role in order, with who holds it', description: 'Returns every staff role in display order with the author who holds it (null when vacant), for a masthead or "About us" page. Keyless answers carry an ETag and Cache-Control.', tags,
      response: { 200: MastheadSchema }
    }
  }, async (request, reply) => {
    // The public gets the stored masthead; staff read it live.
    const stored = request.actor === null ? await app.publicReads.document(MASTHEAD) : undefined
    if (stored !== undefined) return sendStoredPage(reply, stored)
    return await masthead.readMasthead(app.db)
  })

  app.post('/masthead/roles', {
    config: { access: 'admin' },
    schema: {
      operationId: 'createMastheadRole', summary: 'Add a role to the masthead', description: 'Adds a role (its title, its place in the order and, optionally, its holder) to the masthead and returns it with a Location header.', tags,
      body: MastheadRoleCreate,
      response: { 201: MastheadRoleRef, ...problemResponses(400, 409, 413, 415) }
    }
  }, async (request, reply) => {
    const role = await masthead.createOne(app.db, request.body, actorOf(request))
    return await reply.code(201).header('location', `/masthead/roles/${role.id}`).send(role)
  })

  app.get('/masthead/roles/:id', {
    config: { access: 'public', cache: 'masthead' },
    schema: {
      operationId: 'getMastheadRole', summary: 'Read one masthead role', description: 'Returns one masthead role: its title, its place in the order and who holds it.', tags,
      params: RoleIdParams,
      response: { 200: MastheadRoleRef, ...problemResponses(400, 404) }
    }
  }, async (request) => await masthead.readOne(app.db, request.params.id))

  app.put('/masthead/roles/:id', {
    config: { access: 'admin' },
    schema: {
      operationId: 'replaceMastheadRole', summary: 'Replace a masthead role (fields left out are cleared)', description: 'Replaces all of the role\'s fields with the body sent (fields left out are cleared) and returns it.', tags,
      params: RoleIdParams,
      body: MastheadRoleCreate,
      response: { 200: MastheadRoleRef, ...problemResponses(400, 404, 409, 413, 415) }
    }
  }, async (request) => await masthead.replaceOne(app.db, request.params.id, request.body, actorOf(request)))

  app.patch('/masthead/roles/:id', {
    config: { access: 'admin' },
    schema: {
      operationId: 'updateMastheadRole', summary: 'Change a masthead role: its title, order, or holder (null leaves it vacant)', description: 'Changes only the fields sent and returns the role: rename it, move it in the order, or give it to another author (null leaves it vacant).', tags,
      params: RoleIdParams,
      body: MastheadRolePatch,
      response: { 200: MastheadRoleRef, ...problemResponses(400, 404, 409, 413, 415) }
    }
  }, async (request) => await masthead.updateOne(app.db, request.params.id, request.body, actorOf(request)))

  app.delete('/masthead/roles/:id', {
    config: { access: 'admin' },
    schema: {
      operationId: 'deleteMastheadRole', summary: 'Remove a role from the masthead', description: 'Removes the role from the masthead; the author who held it is not otherwise affected.', tags,
      params: RoleIdParams,
      response: { 204: Type.Null({ description: 'Deleted' }), ...problemResponses(400, 404) }
    }
  }, async (request, reply) => {
    await masthead.deleteOne(app.db, request.params.id, actorOf(request))
    return await reply.code(204).send(null)
  })
}
