import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { PageQuery, Slug, StringEnum } from '../common-schemas.ts'
import { problemResponses } from '../errors.ts'
import { ArticleSummaryRef } from '../articles/schemas.ts'
import { search } from './service.ts'

const SearchQuery = Type.Object({
  q: Type.String({ minLength: 1, maxLength: 200, description: 'Words (all must match, stemmed: "conscripts" finds "conscript"), "quoted phrases" and prefix* words', examples: ['"conscripts into" putin', 'ukrain*'] }),
  ...PageQuery,
  section: Type.Optional(Slug),
  author: Type.Optional(Slug),
  tag: Type.Optional(Slug),
  publishedAfter: Type.Optional(Type.String({ format: 'date-time' })),
  publishedBefore: Type.Optional(Type.String({ format: 'date-time' })),
  status: Type.Optional(StringEnum(['published', 'any'], { default: 'published', description: '"any" (staff only) includes drafts, scheduled and archived articles' }))
}, { additionalProperties: false })

const SearchHit = Type.Object({
  article: ArticleSummaryRef,
  score: Type.Number({ description: 'Relevance; higher is better (headline matches weigh most, then dek and authors, then body)' }),
  highlights: Type.Object({
    headline: Type.String({ description: 'The headline as HTML, matches in <mark>' }),
    snippet: Type.String({ description: 'The best passage of the body as HTML, matches in <mark>' })
  })
}, { title: 'SearchHit' })

const SearchResult = Type.Object({
  items: Type.Array(SearchHit),
  total: Type.Integer({ minimum: 0 }),
  page: Type.Integer({ minimum: 1 }),
  limit: Type.Integer({ minimum: 1 }),
  totalPages: Type.Integer({ minimum: 0 }),
  query: Type.String()
}, { title: 'SearchResult' })

export const searchRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/search', {
    config: { access: 'public', cache: 'articles' },
    schema: {
      operationId: 'searchArticles',
      summary: 'Search articles by relevance over headline, dek, body and author names, with highlighted snippets',
      description: 'Results are the newest matches (up to SEARCH_RANK_WINDOW, 1,000 unless configured) ranked by relevance, then any older matches, newest first: a word found across a whole archive is still answered at once. `total` counts every match.',
      tags: ['Articles'],
      querystring: SearchQuery,
      response: { 200: SearchResult, ...problemResponses(400, 401) }
    }
  }, async (request) => await search(app.db, app.dbProvider, request.query, request.actor, app.config.searchRankWindow))
}
