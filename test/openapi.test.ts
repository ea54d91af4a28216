import t from 'tap'
import { Validator } from '@seriousme/openapi-schema-validator'
import { buildTestApp, json } from './helper.ts'

t.test('the OpenAPI document is valid 3.1 and documents every route fully', async (t) => {
  const app = await buildTestApp(t)
  const response = await app.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(response.statusCode, 200)
  const document = json(response)
  t.equal(document.openapi, '3.1.0')

  const result = await new Validator().validate(document)
  t.same(result.errors ?? [], [], 'zero validation errors')
  t.equal(result.valid, true)

  const operationIds = new Set<string>()
  let operations = 0
  for (const [path, item] of Object.entries<any>(document.paths)) {
    for (const [method, operation] of Object.entries<any>(item)) {
      operations++
      const name = `${method.toUpperCase()} ${path}`
      t.type(operation.operationId, 'string', `${name} has an operationId`)
      t.notOk(operationIds.has(operation.operationId), `${name} operationId is unique`)
      operationIds.add(operation.operationId)
      t.ok(operation.summary, `${name} has a summary`)
      t.ok(operation.tags?.length > 0, `${name} has a tag`)
      const success = Object.keys(operation.responses).filter((status) => status.startsWith('2'))
      t.ok(success.length > 0, `${name} documents its success response`)
      const bodyless = ['restoreArticleRevision', 'createArticlePreviewLink', 'replayWebhookDelivery', 'publishArticlePendingRevision'].includes(operation.operationId)
      if (['post', 'put', 'patch'].includes(method) && !bodyless) {
        const content = operation.requestBody?.content ?? {}
        const body = content['application/json'] ?? content['multipart/form-data']
        t.ok(body?.schema, `${name} documents its request body`)
        t.ok(body?.example !== undefined || body?.examples !== undefined, `${name} has request examples`)
        t.ok(operation.responses['400'] && operation.responses['415'], `${name} documents 400 and 415`)
      }
      if (path.includes('{id}')) t.ok(operation.responses['404'], `${name} documents 404`)
    }
  }
  t.ok(operations >= 26, `${operations} operations documented`)

  // What generated clients stumble on: untyped enums, defaulted parameters marked required.
  const untypedEnums: string[] = []
  const walk = (node: unknown, pointer: string): void => {
    if (node === null || typeof node !== 'object') return
    if ('enum' in node && !('type' in node)) untypedEnums.push(pointer)
    for (const [key, value] of Object.entries(node)) walk(value, `${pointer}/${key}`)
  }
  walk(document, '#')
  t.same(untypedEnums, [], 'every enum has a type')
  for (const [path, item] of Object.entries<any>(document.paths)) {
    for (const [method, operation] of Object.entries<any>(item)) {
      for (const parameter of operation.parameters ?? []) {
        if (parameter.schema?.default !== undefined) t.not(parameter.required, true, `${method.toUpperCase()} ${path}: ${parameter.name} has a default, so it is optional`)
      }
    }
  }
  for (const path of ['/articles/{id}', '/articles/slug/{slug}']) {
    const read = document.paths[path].get.responses['200']
    t.same(read.content['application/json'].schema, { $ref: '#/components/schemas/Article' }, `${path}: the full article, no union to narrow`)
    t.same(read['x-copydesk-trimmed'], { $ref: '#/components/schemas/TrimmedArticle' }, `${path}: the fields= form is named beside it`)
  }
  const listed = document.paths['/articles'].get.responses['200']
  t.equal(listed.content['application/json'].schema.properties.items.items.$ref, '#/components/schemas/ArticleSummary')
  t.ok(listed.content['application/json'].schema.properties.page.anyOf.some((branch: any) => branch.type === 'null'), 'a cursor page has no number: page may be null')
  const upload = document.paths['/images/upload'].post.requestBody.content['multipart/form-data']
  t.match(upload.schema.properties.file, { type: 'string', format: 'binary', contentMediaType: 'application/octet-stream' }, 'the upload\'s file is binary')
  t.type(upload.example.file, 'string', 'the multipart example carries its file')
  t.ok(document.paths['/'].get, 'the root, with links to the docs, is documented')
  const patch = document.paths['/articles/{id}'].patch.responses
  t.ok(patch['200'].headers['RateLimit-Remaining'] && patch['429'].headers['Retry-After'], 'rate-limit headers are documented')
  t.same(patch['404']['x-copydesk-error-codes'], ['ARTICLE_NOT_FOUND'], 'each problem response lists its codes')
  t.ok(patch['412']['x-copydesk-error-codes'].includes('VERSION_MISMATCH'))
  const correction = document.paths['/articles/{id}/corrections'].post.requestBody.content['application/json'].schema
  t.same(correction.required, ['text'], 'a body field with a default is optional')
  for (const name of ['Article', 'ArticleSummary', 'Author', 'AuthorSummary', 'AuthorPage', 'Image', 'MastheadRole', 'BodyBlock', 'Problem']) {
    t.ok(document.components.schemas[name], `component ${name} is named`)
    t.ok(document.components.schemas[name].examples?.length > 0, `component ${name} has an example`)
  }
  t.notOk(JSON.stringify(document.components.schemas.Author).includes('email'), 'the public Author shape has no email')
  t.notOk(document.paths['/openapi.json'] ?? document.paths['/docs'], 'the docs routes are not API operations')
})

t.test('Swagger UI is served at /docs', async (t) => {
  const app = await buildTestApp(t)
  const page = await app.inject({ method: 'GET', url: '/docs/' })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], 'text/html')
  t.match(page.body, 'swagger-ui')
  const initializer = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' })
  t.equal(initializer.statusCode, 200)
  const spec = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(json(spec).info.title, 'Copydesk API')
})

t.test('every documented example is valid against its own schema', async (t) => {
  const app = await buildTestApp(t)
  const document = json(await app.inject({ method: 'GET', url: '/openapi.json' }))
  const { buildValidatorCompiler } = await import('../src/validation.ts')
  const shared = Object.values(app.getSchemas()) as object[]
  const compile = buildValidatorCompiler(shared)
  for (const [name, schema] of Object.entries<any>(document.components.schemas)) {
    if (!(name in app.getSchemas())) continue // documentation-only components (the BodyBlock branches)
    const validate = compile({ schema: { $ref: `${name}#` }, method: 'GET', url: '/', httpPart: 'body' }) as any
    for (const example of schema.examples ?? []) {
      t.ok(validate(example), `${name} example is valid: ${JSON.stringify(validate.errors ?? [])}`)
    }
  }
})
