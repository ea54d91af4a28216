import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { Type } from 'typebox'
import { idParamsFor, Page, slugParamsFor } from '../common-schemas.ts'
import { exampleIds, exampleSlugs } from '../examples.ts'
import { actorOf } from '../keys/routes.ts'
import { problemResponses } from '../errors.ts'
import { SectionRef, TagRef, TermCreate, TermListQuery, TermPatch, type TaxonomyKind } from './schemas.ts'
import * as taxonomy from './service.ts'
import { pageJson, sendStoredPage } from '../read-model/reads.ts'

const kinds: Array<{ kind: TaxonomyKind, plural: string, title: string, ref: typeof SectionRef }> = [
  { kind: 'section', plural: 'sections', title: 'Section', ref: SectionRef },
  { kind: 'tag', plural: 'tags', title: 'Tag', ref: TagRef }
]

export const taxonomyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  for (const { kind, plural, title, ref } of kinds) {
    const tags = ['Sections and tags']
    const base = `/${plural}`
    app.get(base, {
      config: { access: 'public', cache: 'articles' },
      schema: { operationId: `list${title}s`, summary: `List ${plural}, by name`, description: `Returns a page of ${plural}, by name, each with its slug and description. Keyless answers carry an ETag and Cache-Control.`, tags, querystring: TermListQuery, response: { 200: Page(ref, title), ...problemResponses(400) } }
    }, async (request, reply) => {
      if (request.actor !== null) return await taxonomy.readMany(app.db, kind, request.query)
      // The public's list is made of the stored documents, in the order of the list schema.
      const { page, limit } = request.query
      const [items, total] = await Promise.all([app.publicReads.termWindow(kind, (page - 1) * limit, limit), app.publicReads.termCount(kind)])
      const state = request.cacheState
      if (state !== undefined) state.keys = ['articles-list', ...items.map((item) => `term-${item.id}`)]
      const json = pageJson(items.map((item) => item.document), { total, page, limit, totalPages: Math.ceil(total / limit) })
      // Already JSON: past the response schema's serializer, as stored bytes are sent elsewhere.
      return await (reply as FastifyReply).type('application/json; charset=utf-8').send(json)
    })

    app.post(base, {
      config: { access: 'editor' },
      schema: { operationId: `create${title}`, summary: `Create a ${kind} (the slug is made from the name when omitted)`, description: `Creates a ${kind} and returns it with a Location header; the slug is made from the name when omitted. Articles are filed under it through ${kind === 'section' ? 'sectionId' : 'tagIds'}.`, tags, body: TermCreate, response: { 201: ref, ...problemResponses(400, 409, 413, 415) } }
    }, async (request, reply) => {
      const created = await taxonomy.createOne(app.db, kind, request.body, actorOf(request))
      return await reply.code(201).header('location', `${base}/${created.id}`).send(created)
    })

    app.get(`${base}/:id`, {
      config: { access: 'public', cache: 'articles' },
      schema: { operationId: `get${title}`, summary: `Read a ${kind}`, description: `Returns one ${kind}: its name, slug and description. Its articles are listed by GET /articles?${kind}=<slug>.`, tags, params: idParamsFor(exampleIds[kind]), response: { 200: ref, ...problemResponses(400, 404) } }
    }, async (request, reply) => {
      const stored = request.actor === null ? await app.publicReads.termById(kind, request.params.id) : undefined
      return stored !== undefined ? sendStoredPage(reply, stored) : await taxonomy.readOne(app.db, kind, { id: request.params.id })
    })

    app.get(`${base}/slug/:slug`, {
      config: { access: 'public', cache: 'articles' },
      schema: { operationId: `get${title}BySlug`, summary: `Read a ${kind} by slug (its articles: GET /articles?${kind}=<slug>)`, description: `Returns the ${kind} whose slug is in a page's URL, for the heading of a ${kind} page; its articles are listed by GET /articles?${kind}=<slug>.`, tags, params: slugParamsFor(exampleSlugs[kind]), response: { 200: ref, ...problemResponses(400, 404) } }
    }, async (request, reply) => {
      const stored = request.actor === null ? await app.publicReads.termBySlug(kind, request.params.slug) : undefined
      return stored !== undefined ? sendStoredPage(reply, stored) : await taxonomy.readOne(app.db, kind, { slug: request.params.slug })
    })

    app.put(`${base}/:id`, {
      config: { access: 'editor' },
      schema: { operationId: `replace${title}`, summary: `Replace a ${kind} (the description is cleared when left out)`, description: `Replaces the ${kind}'s fields with the body sent and returns it; the description is cleared when left out.`, tags, params: idParamsFor(exampleIds[kind]), body: TermCreate, response: { 200: ref, ...problemResponses(400, 404, 409, 413, 415) } }
    }, async (request) => await taxonomy.replaceOne(app.db, kind, request.params.id, request.body, actorOf(request)))

    app.patch(`${base}/:id`, {
      config: { access: 'editor' },
      schema: { operationId: `update${title}`, summary: `Change some of a ${kind}'s fields`, description: `Changes only the fields sent and returns the ${kind}; articles filed under it show the new name.`, tags, params: idParamsFor(exampleIds[kind]), body: TermPatch, response: { 200: ref, ...problemResponses(400, 404, 409, 413, 415) } }
    }, async (request) => await taxonomy.updateOne(app.db, kind, request.params.id, request.body, actorOf(request)))

    app.delete(`${base}/:id`, {
      config: { access: 'editor' },
      schema: { operationId: `delete${title}`, summary: `Delete a ${kind} no article uses (409 otherwise)`, description: `Deletes a ${kind} that no article is filed under; otherwise 409 says how many articles still use it.`, tags, params: idParamsFor(exampleIds[kind === 'section' ? 'idleSection' : 'idleTag']), response: { 204: Type.Null({ description: 'Deleted' }), ...problemResponses(400, 404, 409) } }
    }, async (request, reply) => {
      await taxonomy.deleteOne(app.db, kind, request.params.id, actorOf(request))
      return await reply.code(204).send(null)
    })
  }
}
