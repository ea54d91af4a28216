import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { reservedSlugsOf } from '../config.ts'
import { Type } from 'typebox'
import { idParamsFor, Page, slugParamsFor } from '../common-schemas.ts'
import { exampleIds, exampleSlugs } from '../examples.ts'
import { actorOf } from '../keys/routes.ts'
import { problemResponses } from '../errors.ts'
import { readLatestByAuthor } from '../articles/service.ts'
import { AuthorCreate, AuthorListQuery, AuthorPatch, AuthorRef } from './schemas.ts'
import * as authors from './service.ts'
import { sendStoredPage } from '../read-model/reads.ts'

const tags = ['Authors']
const AuthorIdParams = idParamsFor(exampleIds.author)
const AuthorPageRef = Type.Unsafe({ $ref: 'AuthorPage#' })

export const authorRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const reservedSlugs = reservedSlugsOf(app.config)
  app.get('/authors', {
    config: { access: 'public', cache: 'authors' },
    schema: {
      operationId: 'listAuthors', summary: 'List authors', description: 'Returns a page of authors, sorted by name unless `sort` says otherwise. Keyless answers carry an ETag and Cache-Control.', tags,
      querystring: AuthorListQuery,
      response: { 200: Page(AuthorRef, 'Author'), ...problemResponses(400) }
    }
  }, async (request) => await authors.readMany(app.db, request.query))

  app.post('/authors', {
    config: { access: 'editor' },
    schema: {
      operationId: 'createAuthor', summary: 'Create an author', description: 'Creates an author that articles can credit in their bylines and returns it with a Location header; the slug is made from the name when omitted.', tags,
      body: AuthorCreate,
      response: { 201: AuthorRef, ...problemResponses(400, 409, 413, 415) }
    }
  }, async (request, reply) => {
    const author = await authors.createOne(app.db, request.body, actorOf(request), reservedSlugs)
    return await reply.code(201).header('location', `/authors/${author.id}`).send(author)
  })

  app.get('/authors/:id', {
    config: { access: 'public', cache: 'authors' },
    schema: {
      operationId: 'getAuthor', summary: 'Read an author with their latest published articles', description: 'Returns the author\'s profile with their ten latest published articles: what an author page needs, in one request. Keyless answers carry an ETag and Cache-Control.', tags,
      params: AuthorIdParams,
      response: { 200: AuthorPageRef, ...problemResponses(400, 404) }
    }
  }, async (request, reply) => {
    // The public gets the stored page; staff (and a missing author's 404) take the live path.
    const stored = request.actor === null ? await app.publicReads.authorById(request.params.id) : undefined
    if (stored !== undefined) return sendStoredPage(reply, stored)
    const author = await authors.readOne(app.db, request.params.id)
    return { ...author, latestArticles: await readLatestByAuthor(app.db, author.id) }
  })

  app.get('/authors/slug/:slug', {
    config: { access: 'public', cache: 'authors' },
    schema: {
      operationId: 'getAuthorBySlug', summary: 'Read an author by slug, with their latest published articles (the author page)', description: 'Returns the same author page as GET /authors/{id}, found by the slug in the page\'s URL: the profile and their ten latest published articles.', tags,
      params: slugParamsFor(exampleSlugs.author),
      response: { 200: AuthorPageRef, ...problemResponses(400, 404) }
    }
  }, async (request, reply) => {
    const stored = request.actor === null ? await app.publicReads.authorBySlug(request.params.slug) : undefined
    if (stored !== undefined) return sendStoredPage(reply, stored)
    const author = await authors.readOneBySlug(app.db, request.params.slug)
    return { ...author, latestArticles: await readLatestByAuthor(app.db, author.id) }
  })

  app.put('/authors/:id', {
    config: { access: 'editor' },
    schema: {
      operationId: 'replaceAuthor', summary: 'Replace an author (fields left out are cleared; the slug is kept when omitted)', description: 'Replaces all of the author\'s fields with the body sent (fields left out are cleared, the slug is kept when omitted) and returns the stored author. A new name shows on every article that credits them.', tags,
      params: AuthorIdParams,
      body: AuthorCreate,
      response: { 200: AuthorRef, ...problemResponses(400, 404, 409, 413, 415) }
    }
  }, async (request) => await authors.replaceOne(app.db, request.params.id, request.body, actorOf(request), reservedSlugs))

  app.patch('/authors/:id', {
    config: { access: 'editor' },
    schema: {
      operationId: 'updateAuthor', summary: 'Change some of an author\'s fields', description: 'Changes only the fields sent (null clears an optional one) and returns the stored author. A new name shows on every article that credits them.', tags,
      params: AuthorIdParams,
      body: AuthorPatch,
      response: { 200: AuthorRef, ...problemResponses(400, 404, 409, 413, 415) }
    }
  }, async (request) => await authors.updateOne(app.db, request.params.id, request.body, actorOf(request), reservedSlugs))

  app.delete('/authors/:id', {
    config: { access: 'admin' },
    schema: {
      operationId: 'deleteAuthor', summary: 'Delete an author who has no bylines and holds no masthead role', description: 'Deletes an author whom no article credits and who holds no masthead role; otherwise 409 says what still refers to them, to be removed first.', tags,
      params: idParamsFor(exampleIds.idleAuthor),
      response: { 204: Type.Null({ description: 'Deleted' }), ...problemResponses(400, 404, 409) }
    }
  }, async (request, reply) => {
    await authors.deleteOne(app.db, request.params.id, actorOf(request))
    return await reply.code(204).send(null)
  })
}
