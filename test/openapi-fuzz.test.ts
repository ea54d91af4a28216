// A fuzzer driven by the OpenAPI document: every operation gets valid and hostile path params,
// query strings and bodies. Whatever comes back must be a documented status, never a 5xx, with a
// problem+json body on errors and a body that matches the documented schema on success.
import t from 'tap'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { buildTestApp, createArticle, createAuthor, createImage, injectMaybeEndless, isEventStream, json, post } from './helper.ts'

const hostile: unknown[] = [null, true, -1, 0, 2 ** 53, 1.5, '', ' ', 'x'.repeat(3000), '\u0000', '😀', [], {}, { $ne: null }, '<script>alert(1)</script>', "' OR 1=1 --", '../../etc/passwd', '2016-12-31T23:59:60Z']

function pointerTo (path: string[]): string {
  return '#/' + path.map((part) => part.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')
}

t.test('every operation survives hostile input and answers as documented', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const image = await createImage(app)
  const author = await createAuthor(app)
  const article = await createArticle(app, { status: 'published', bylines: [{ authorId: author.id }] })
  const role = json(await post(app, '/masthead/roles', { title: 'Managing Editor' }))
  const webhook = json(await post(app, '/webhooks', { url: 'https://hooks.example.com/x', events: ['*'] }))
  const document = json(await app.inject({ method: 'GET', url: '/openapi.json' }))

  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true })
  addFormats.default(ajv)
  ajv.addSchema({ ...document, $id: 'https://copydesk.test/openapi.json' })
  const validatorFor = (path: string[]) => ajv.getSchema(`https://copydesk.test/openapi.json${pointerTo(path)}`) ?? ajv.compile({ $ref: `https://copydesk.test/openapi.json${pointerTo(path)}` })

  const idFor = (path: string): string => {
    if (path.startsWith('/images')) return image.id
    if (path.startsWith('/authors')) return author.id
    if (path.startsWith('/masthead')) return role.id
    if (path.startsWith('/webhooks')) return webhook.id
    return article.id
  }
  let requests = 0
  let successesChecked = 0
  let problemsChecked = 0
  for (const [path, item] of Object.entries<any>(document.paths)) {
    for (const [method, operation] of Object.entries<any>(item)) {
      if (method === 'delete') continue // deleting the fixtures would starve the other operations
      const paramValues: Array<Record<string, string>> = [
        { id: idFor(path), slug: path.startsWith('/authors') ? author.slug : article.slug, version: '1' },
        { id: '019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11', slug: 'no-such-slug', version: '999' },
        { id: 'not-a-uuid', slug: 'UPPER case', version: '-1' },
        { id: '%00', slug: '%ff%fe', version: 'x' }
      ]
      const queryParams = (operation.parameters ?? []).filter((parameter: any) => parameter.in === 'query').map((parameter: any) => parameter.name as string)
      const queries = ['', ...queryParams.flatMap((name: string) => hostile.slice(0, 12).map((value) => `${encodeURIComponent(name)}=${encodeURIComponent(typeof value === 'string' ? value : JSON.stringify(value))}`)), 'unknown=1']
      const mediaType = operation.requestBody?.content?.['application/json']
      const example = mediaType?.example ?? Object.values<any>(mediaType?.examples ?? {})[0]?.value
      const bodies: unknown[] = mediaType === undefined
        ? [undefined]
        : [example, ...Object.keys(example ?? {}).flatMap((key) => hostile.map((value) => ({ ...example, [key]: value }))), ...hostile, { unknown: 1 }]

      for (const params of paramValues) {
        const url = path.replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? 'x')
        for (const query of queries) {
          for (const body of (query === '' ? bodies : [bodies[0]])) {
            const response = await (isEventStream(operation) ? injectMaybeEndless.bind(null, app) : app.inject.bind(app))({
              method: method.toUpperCase() as 'GET',
              url: query === '' ? url : `${url}?${query}`,
              ...(body === undefined ? {} : { payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
            })
            requests++
            const label = `${method.toUpperCase()} ${url}${query === '' ? '' : '?' + query.slice(0, 40)} ${JSON.stringify(body)?.slice(0, 60) ?? ''}`
            if (response.statusCode >= 500) t.fail(`${label} → ${response.statusCode} ${response.body.slice(0, 200)}`)
            const documented = operation.responses[String(response.statusCode)]
            if (documented === undefined && response.statusCode !== 308) t.fail(`${label} → undocumented ${response.statusCode}: ${response.body.slice(0, 200)}`)
            if (response.statusCode >= 400) {
              if (!String(response.headers['content-type']).startsWith('application/problem+json')) t.fail(`${label}: error without problem+json`)
              problemsChecked++
            } else if (documented !== undefined && response.statusCode !== 204) {
              const contentType = Object.keys(documented.content ?? {})[0]
              if (contentType === undefined) continue
              if (!/[/+]json$/.test(contentType)) {
                // Feeds, sitemaps, image files: the type documented, not JSON.
                if (!String(response.headers['content-type']).startsWith(contentType) && !Object.keys(documented.content).some((type) => String(response.headers['content-type']).startsWith(type))) t.fail(`${label} → ${response.statusCode} is ${String(response.headers['content-type'])}, not ${contentType}`)
                continue
              }
              // fields= and include= trim an article: the document names that shape beside the full one.
              const trimmed = documented['x-copydesk-trimmed'] !== undefined && /(^|&)(fields|include)=/.test(query)
              const validate = validatorFor(['paths', path, method, 'responses', String(response.statusCode), ...(trimmed ? ['x-copydesk-trimmed'] : ['content', contentType, 'schema'])])
              if (!validate(json(response))) t.fail(`${label} → ${response.statusCode} does not match its schema: ${JSON.stringify(validate.errors).slice(0, 300)}`)
              successesChecked++
            }
          }
        }
      }
    }
  }
  t.ok(requests > 2000, `${requests} requests, none of them a 5xx, an undocumented status or an off-schema body`)
  t.ok(successesChecked > 100 && problemsChecked > 1000, `${successesChecked} successful bodies matched their schema; ${problemsChecked} errors were problem+json`)
})
