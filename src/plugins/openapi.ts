// The OpenAPI 3.1 document (at /openapi.json) and Swagger UI (at /docs).
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { webhookEventsDocumentation } from '../webhooks/openapi.ts'
import { problemCodesByStatus } from '../errors.ts'

/**
 * Gives each branch of a discriminated oneOf (BodyBlock) its own component and an explicit mapping,
 * as OpenAPI 3.1 expects for code generators. The validator keeps the inline form, since Ajv does
 * not support `mapping`.
 */
function namePolymorphicBranches (document: { components?: { schemas?: Record<string, any> } }): void { // eslint-disable-line @typescript-eslint/no-explicit-any -- plain JSON
  const schemas = document.components?.schemas ?? {}
  for (const schema of Object.values(schemas)) {
    const propertyName = schema?.discriminator?.propertyName
    if (typeof propertyName !== 'string' || !Array.isArray(schema.oneOf)) continue
    const mapping: Record<string, string> = {}
    schema.oneOf = schema.oneOf.map((branch: { title?: string, properties?: Record<string, { const?: string, enum?: string[] }> }) => {
      const tag = branch.properties?.[propertyName]
      const value = tag?.const ?? (tag?.enum?.length === 1 ? tag.enum[0] : undefined)
      if (typeof value !== 'string') return branch
      const name = branch.title ?? `${value.charAt(0).toUpperCase()}${value.slice(1)}${String(schema.title ?? '').replace(/^Body/, '')}`
      schemas[name] = { title: name, ...branch }
      mapping[value] = `#/components/schemas/${name}`
      return { $ref: mapping[value] }
    })
    schema.discriminator = { propertyName, mapping }
  }
}

/**
 * Uploads take multipart/form-data or raw image bytes, which Ajv cannot validate as a body schema;
 * such routes describe their request body under "x-copydesk-request-body", moved into place here.
 */
function documentNonJsonBodies (document: { paths?: Record<string, Record<string, any>> }): void { // eslint-disable-line @typescript-eslint/no-explicit-any -- plain JSON
  for (const item of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(item)) {
      if (operation?.['x-copydesk-request-body'] === undefined) continue
      operation.requestBody = operation['x-copydesk-request-body']
      delete operation['x-copydesk-request-body']
    }
  }
}

type JsonSchema = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any -- plain JSON

/** Drops from `required` the properties that have a default, in this schema and the ones it nests. */
function defaultsNotRequired (schema: JsonSchema | undefined): void {
  if (schema === null || typeof schema !== 'object') return
  if (Array.isArray(schema.required) && schema.properties !== undefined) {
    schema.required = schema.required.filter((name: string) => schema.properties[name]?.default === undefined)
    if (schema.required.length === 0) delete schema.required
  }
  for (const nested of Object.values(schema.properties ?? {})) defaultsNotRequired(nested as JsonSchema)
  if (schema.items !== undefined) defaultsNotRequired(schema.items)
}

/**
 * A parameter or request field with a default may be left out: the validator fills the default in
 * (useDefaults) before it checks `required`. The schemas list it as required so that handlers see it
 * typed as always there; the document says what a caller must send.
 */
function documentDefaultsAsOptional (document: { paths?: Record<string, Record<string, any>> }): void { // eslint-disable-line @typescript-eslint/no-explicit-any -- plain JSON
  for (const item of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(item)) {
      for (const parameter of operation?.parameters ?? []) {
        if (parameter.required === true && parameter.in !== 'path' && parameter.schema?.default !== undefined) parameter.required = false
      }
      for (const media of Object.values<JsonSchema>(operation?.requestBody?.content ?? {})) {
        // A copy: the document may share its objects with the schemas requests are validated by.
        if (media.schema !== undefined) media.schema = structuredClone(media.schema)
        defaultsNotRequired(media.schema)
      }
    }
  }
}

/**
 * Article reads take fields= and include=. The 200 is documented as the full shape, which is what a
 * read without them always answers, so a generated client needs no type guard for the usual read.
 * The trimmed form is a named component the 200 points at under "x-copydesk-trimmed", and the
 * description says when it applies: a client asking for fields= types that answer itself.
 */
function documentTrimmableResponses (document: { paths?: Record<string, Record<string, any>>, components?: { schemas?: Record<string, any> } }): void { // eslint-disable-line @typescript-eslint/no-explicit-any -- plain JSON
  const schemas = document.components?.schemas
  if (schemas === undefined) return
  const trimmedItem = { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } }, additionalProperties: true }
  schemas.TrimmedArticle = { title: 'TrimmedArticle', description: 'An article with only the fields and relations asked for with fields= and include= (id always)', ...trimmedItem }
  schemas.TrimmedArticleList = {
    title: 'TrimmedArticleList',
    description: 'A page of articles, each with only the fields and relations asked for with fields= and include=',
    type: 'object',
    required: ['items', 'total', 'page', 'limit', 'totalPages', 'nextCursor', 'prevCursor'],
    properties: {
      items: { type: 'array', items: { $ref: '#/components/schemas/TrimmedArticle' } },
      total: { type: 'integer', minimum: 0 },
      page: { type: ['integer', 'null'], minimum: 1 },
      limit: { type: 'integer', minimum: 1 },
      totalPages: { type: 'integer', minimum: 0 },
      nextCursor: { type: ['string', 'null'] },
      prevCursor: { type: ['string', 'null'] }
    }
  }
  for (const item of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(item)) {
      if (operation?.['x-copydesk-trimmable'] !== true) continue
      delete operation['x-copydesk-trimmable']
      const success = operation.responses?.['200']
      if (success?.content?.['application/json']?.schema === undefined) continue
      const isList = operation.operationId === 'listArticles'
      success.description = `${String(success.description)}. With fields= or include=, ${isList ? 'each item has' : 'it has'} only the fields and relations asked for (id always): see ${isList ? 'TrimmedArticleList' : 'TrimmedArticle'}`
      success['x-copydesk-trimmed'] = { $ref: `#/components/schemas/${isList ? 'TrimmedArticleList' : 'TrimmedArticle'}` }
    }
  }
}

/** Which missing thing a 404 is about, by the path: the codes an operation's 404 can carry. */
const notFoundCodes: Array<[RegExp, string]> = [
  [/^\/articles\/(\{id\}|slug\/)/, 'ARTICLE_NOT_FOUND'],
  [/\/revisions\/\{version\}/, 'REVISION_NOT_FOUND'],
  [/^\/preview\//, 'PREVIEW_LINK_INVALID'],
  [/^\/authors\/(\{id\}|slug\/)/, 'AUTHOR_NOT_FOUND'],
  [/^\/images\/\{id\}/, 'IMAGE_NOT_FOUND'],
  [/^\/masthead\/roles\/\{id\}/, 'MASTHEAD_ROLE_NOT_FOUND'],
  [/^\/sections\/(\{id\}|slug\/)/, 'SECTION_NOT_FOUND'],
  [/^\/tags\/(\{id\}|slug\/)/, 'TAG_NOT_FOUND'],
  [/^\/webhooks\/\{id\}/, 'WEBHOOK_NOT_FOUND'],
  [/\/deliveries\/\{deliveryId\}/, 'WEBHOOK_DELIVERY_NOT_FOUND'],
  [/^\/keys\/\{id\}/, 'KEY_NOT_FOUND']
]

const rateLimitHeaders = {
  'RateLimit-Limit': { description: 'Requests allowed in the window (reads per address or key, writes per key); sent when rate limits are on', schema: { type: 'integer' } },
  'RateLimit-Remaining': { description: 'Requests left in the window', schema: { type: 'integer' } },
  'RateLimit-Reset': { description: 'Seconds until the window starts again', schema: { type: 'integer' } }
}

/**
 * Every documented operation is rate limited (plugins/access.ts): its answers carry the RateLimit
 * headers and a 429 says when to retry. Each problem response lists the `code` values it can carry.
 */
function documentLimitsAndCodes (document: { paths?: Record<string, Record<string, any>>, components?: Record<string, any> }): void { // eslint-disable-line @typescript-eslint/no-explicit-any -- plain JSON
  const components = document.components ?? {}
  components.headers = { ...components.headers, ...rateLimitHeaders, 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } } }
  const references = Object.fromEntries(Object.keys(rateLimitHeaders).map((name) => [name, { $ref: `#/components/headers/${name}` }]))
  const codesByStatus = problemCodesByStatus()
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const [method, operation] of Object.entries(item)) {
      if (operation?.['x-copydesk-access'] === undefined) continue
      // Any write can meet a full disk (STORAGE_FULL); the problem is the same as the 503's.
      const unavailable = operation.responses?.['503']
      if (method !== 'get' && operation.responses?.['507'] === undefined && unavailable !== undefined) {
        operation.responses['507'] = { ...unavailable, description: 'Insufficient Storage' }
      }
      for (const [status, shared] of Object.entries<any>(operation.responses ?? {})) { // eslint-disable-line @typescript-eslint/no-explicit-any -- plain JSON
        // Operations may share a response object (writeProblems): each gets its own.
        const response = { ...shared }
        operation.responses[status] = response
        response.headers = { ...response.headers, ...references, ...(status === '429' || status === '503' ? { 'Retry-After': { $ref: '#/components/headers/Retry-After' } } : {}) }
        if (response.content?.['application/problem+json'] === undefined) continue
        let codes = codesByStatus.get(Number(status)) ?? []
        if (status === '404') codes = notFoundCodes.filter(([pattern]) => pattern.test(path)).map(([, code]) => code)
        if (codes.length === 0) continue
        response['x-copydesk-error-codes'] = codes
        response.description = `${String(response.description)}. \`code\`: ${codes.join(', ')}`
      }
    }
  }
}

export default fp(async (app) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Copydesk API',
        version: '0.1.0',
        description: 'A headless CMS for newsrooms: articles with structured bodies and ordered bylines, authors, images with captions and credits, and the masthead.\n\nErrors are RFC 9457 problem+json documents with a stable `code`. Articles carry their version as an ETag: send it back in `If-Match` when editing, and a stale edit is refused with 412 instead of overwriting a colleague\'s work.\n\nReading published content needs no key. Everything else needs an API key (`Authorization: Bearer <key>`) whose role allows it: writer (their own drafts), editor (all content, publishing, authors, images) or admin (also keys, the masthead, webhooks, the audit trail). Each operation lists the roles that may call it in `x-copydesk-roles`.',
        license: { name: 'UNLICENSED', identifier: 'UNLICENSED' }
      },
      servers: [{ url: '/', description: 'This server' }],
      // What Copydesk sends to webhook receivers: one entry per event, payloads under components.
      webhooks: webhookEventsDocumentation,
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'cdk_… API key',
            description: 'An API key, sent as "Authorization: Bearer <key>". The first admin key is printed once in the log when the server starts on an empty database; admins create more with POST /keys or `npm run key:create`.'
          }
        }
      },
      tags: [
        { name: 'Articles', description: 'Stories: headline, dek, body blocks, bylines, lead image, status' },
        { name: 'Authors', description: 'Writers, photographers and editors' },
        { name: 'Images', description: 'Photos with alt text, caption and credit' },
        { name: 'Sections and tags', description: 'Where articles are filed: one primary section, any number of tags' },
        { name: 'Masthead', description: 'The ordered staff roles and who holds them' },
        { name: 'Revisions', description: 'Every version of an article: list, read, compare, restore' },
        { name: 'Changes', description: 'The change feed and live server-sent events: what changed, in order, resumable from a cursor' },
        { name: 'Webhooks', description: 'Signed POSTs to your endpoints when content changes' },
        { name: 'Access', description: 'API keys, roles and the audit trail' },
        { name: 'Feeds and sitemaps', description: 'RSS, Atom and JSON Feed, sitemaps and the Google News sitemap, for readers, crawlers and aggregators' },
        { name: 'Operations', description: 'Health checks for load balancers' }
      ]
    },
    transformObject: (documentObject) => {
      const document = (documentObject as { openapiObject: Record<string, any> }).openapiObject // eslint-disable-line @typescript-eslint/no-explicit-any -- the generated document is plain JSON
      namePolymorphicBranches(document)
      documentNonJsonBodies(document)
      documentTrimmableResponses(document)
      documentDefaultsAsOptional(document)
      documentLimitsAndCodes(document)
      return document
    },
    refResolver: {
      // Components are named after the schemas' $id, e.g. #/components/schemas/Article.
      buildLocalReference: (json, _baseUri, _fragment, index) => typeof json.$id === 'string' ? json.$id : `Schema${index}`
    }
  })
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true, docExpansion: 'list' } })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}, { name: 'openapi' })
