import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { Type } from 'typebox'
import { IdParams, IfMatchHeaders, Page, SlugParams } from '../common-schemas.ts'
import { problemResponses } from '../errors.ts'
import { ArticleCreate, ArticleListQuery, ArticlePatch, ArticleRef, ArticleSummaryRef, type Article } from './schemas.ts'
import * as articles from './service.ts'

const tags = ['Articles']
const etagHeader = { ETag: { type: 'string', description: 'The article\'s version; send it back in If-Match to edit safely' } }
const withEtag = (description: string) => ({ description, headers: etagHeader, ...ArticleRef })

function sendArticle (reply: FastifyReply, article: Article, status = 200): FastifyReply {
  return reply.code(status).header('etag', articles.etagOf(article.version)).send(article)
}

export const articleRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/articles', {
    schema: {
      operationId: 'listArticles',
      summary: 'List articles; by default the published ones, newest first ("Latest News")',
      tags,
      querystring: ArticleListQuery,
      response: { 200: Page(ArticleSummaryRef, 'ArticleSummary'), ...problemResponses(400) }
    }
  }, async (request) => await articles.readMany(app.db, request.query))

  app.post('/articles', {
    schema: {
      operationId: 'createArticle', summary: 'Create an article', tags,
      body: ArticleCreate,
      response: { 201: withEtag('Created'), ...problemResponses(400, 409, 413, 415) }
    }
  }, async (request, reply) => {
    const article = await articles.createOne(app.db, request.body)
    return sendArticle(reply.header('location', `/articles/${article.id}`), article, 201)
  })

  app.get('/articles/:id', {
    schema: {
      operationId: 'getArticle', summary: 'Read an article by id, with its authors and images embedded', tags,
      params: IdParams,
      response: { 200: withEtag('The article'), ...problemResponses(400, 404) }
    }
  }, async (request, reply) => sendArticle(reply, await articles.readOne(app.db, request.params.id)))

  app.get('/articles/slug/:slug', {
    schema: {
      operationId: 'getArticleBySlug', summary: 'Read an article by slug, as a frontend renders it', tags,
      params: SlugParams,
      response: { 200: withEtag('The article'), ...problemResponses(400, 404) }
    }
  }, async (request, reply) => sendArticle(reply, await articles.readOneBySlug(app.db, request.params.slug)))

  app.put('/articles/:id', {
    schema: {
      operationId: 'replaceArticle',
      summary: 'Replace an article (fields left out are cleared; the slug is kept when omitted)',
      tags,
      params: IdParams,
      headers: IfMatchHeaders,
      body: ArticleCreate,
      response: { 200: withEtag('The article as stored'), ...problemResponses(400, 404, 409, 412, 413, 415) }
    }
  }, async (request, reply) => sendArticle(reply, await articles.replaceOne(app.db, request.params.id, request.body, request.headers['if-match'])))

  app.patch('/articles/:id', {
    schema: {
      operationId: 'updateArticle',
      summary: 'Change some of an article\'s fields, e.g. publish it with {"status":"published"}',
      tags,
      params: IdParams,
      headers: IfMatchHeaders,
      body: ArticlePatch,
      response: { 200: withEtag('The article as stored'), ...problemResponses(400, 404, 409, 412, 413, 415) }
    }
  }, async (request, reply) => sendArticle(reply, await articles.updateOne(app.db, request.params.id, request.body, request.headers['if-match'])))

  app.delete('/articles/:id', {
    schema: {
      operationId: 'deleteArticle', summary: 'Delete an article', tags,
      params: IdParams,
      headers: IfMatchHeaders,
      response: { 204: Type.Null({ description: 'Deleted' }), ...problemResponses(400, 404, 412) }
    }
  }, async (request, reply) => {
    await articles.deleteOne(app.db, request.params.id, request.headers['if-match'])
    return await reply.code(204).send(null)
  })
}
