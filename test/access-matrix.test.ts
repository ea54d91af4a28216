// Walks every operation in the OpenAPI document with every kind of caller (no key, writer, editor,
// admin, a revoked key) and checks the access decision against the rule the operation declares.
// A route added without a rule fails here (and already fails to start).
import t from 'tap'
import { adminKey, anonymous, bearer, buildTestApp, createAuthor, injectMaybeEndless, isEventStream, json, post } from './helper.ts'
import { accessLevels, allows, type Access, type Actor } from '../src/keys/roles.ts'

const methods = ['get', 'head', 'post', 'put', 'patch', 'delete']
const deniedCodes = new Set(['AUTHENTICATION_REQUIRED', 'INVALID_KEY', 'ROLE_NOT_ALLOWED'])

t.test('every operation lets exactly the roles it declares through', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const author = await createAuthor(app, { name: 'Writer Person' })
  const keyFor = async (role: string, extra: object = {}): Promise<string> => json(await post(app, '/keys', { name: `${role} key`, role, ...extra })).secret
  const keys = {
    writer: await keyFor('writer', { authorId: author.id }),
    editor: await keyFor('editor'),
    admin: adminKey
  }
  const revokedKey = json(await post(app, '/keys', { name: 'gone', role: 'admin' }))
  await app.inject({ method: 'DELETE', url: `/keys/${revokedKey.id}` })
  const callers: Array<{ name: string, headers: Record<string, string>, actor: Actor | null, revoked?: boolean }> = [
    { name: 'no key', headers: anonymous, actor: null },
    { name: 'writer', headers: bearer(keys.writer), actor: { keyId: 'w', keyName: 'w', role: 'writer', authorId: author.id } },
    { name: 'editor', headers: bearer(keys.editor), actor: { keyId: 'e', keyName: 'e', role: 'editor', authorId: null } },
    { name: 'admin', headers: bearer(keys.admin), actor: { keyId: 'a', keyName: 'a', role: 'admin', authorId: null } },
    { name: 'revoked key', headers: bearer(revokedKey.secret), actor: null, revoked: true }
  ]

  const document = json(await app.inject({ method: 'GET', url: '/openapi.json', headers: anonymous }))
  t.ok(document.components.securitySchemes.bearerAuth, 'the document declares the bearer scheme')
  let operations = 0
  for (const [path, item] of Object.entries<any>(document.paths)) {
    for (const [method, operation] of Object.entries<any>(item)) {
      if (!methods.includes(method)) continue
      operations++
      const access = operation['x-copydesk-access'] as Access
      t.ok(accessLevels.includes(access), `${operation.operationId} declares who may call it`)
      t.ok(Array.isArray(operation.security) && operation.security.length > 0, `${operation.operationId} declares its security`)
      t.ok(operation.responses['401'] !== undefined, `${operation.operationId} documents 401`)
      if (access !== 'public') t.ok(operation.responses['403'] !== undefined, `${operation.operationId} documents 403`)

      const url = path.replace(/\{(\w+)\}/g, (_: string, name: string) => ({ id: '019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11', slug: 'no-such-slug', version: '1', token: `019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11.1.${'0'.repeat(64)}` } as Record<string, string>)[name] ?? 'x')
      const mediaType = operation.requestBody?.content?.['application/json']
      const body = mediaType?.example ?? Object.values<any>(mediaType?.examples ?? {})[0]?.value
      for (const caller of callers) {
        const request = { method: method.toUpperCase() as 'GET', url, headers: caller.headers, ...(body !== undefined ? { payload: body } : {}) }
        const response = isEventStream(operation) ? await injectMaybeEndless(app, request) : await app.inject(request)
        const code = String(response.headers['content-type']).startsWith('application/problem+json') ? (json(response).code ?? '') : ''
        const label = `${operation.operationId} as ${caller.name}: ${response.statusCode} ${code}`
        if (caller.revoked === true) {
          t.equal(response.statusCode, 401, label)
          t.equal(code, 'INVALID_KEY', label)
        } else if (allows(access, caller.actor)) {
          t.notOk(deniedCodes.has(code), `${label} (allowed)`)
        } else if (caller.actor === null) {
          t.equal(response.statusCode, 401, `${label} (needs a key)`)
          t.equal(code, 'AUTHENTICATION_REQUIRED', label)
          t.match(response.headers['www-authenticate'], /^Bearer/)
        } else {
          t.equal(response.statusCode, 403, `${label} (role too low)`)
          t.equal(code, 'ROLE_NOT_ALLOWED', label)
        }
      }
    }
  }
  t.ok(operations >= 45, `walked ${operations} operations`)
})

t.test('a route without a declared access rule stops the app from starting', async (t) => {
  const { buildApp } = await import('../src/app.ts')
  const { testConfig } = await import('./helper.ts')
  const app = await buildApp(await testConfig(t))
  t.teardown(async () => { await app.close() })
  t.throws(() => { app.get('/undeclared', { schema: { summary: 'no rule' } }, async () => ({})) }, /does not declare config.access/)
})

t.test('within the routes a writer may call, the desk keeps its own rules: no legal sign-off, no lease take-over', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const author = await createAuthor(app, { name: 'Writer Person' })
  const writer = json(await post(app, '/keys', { name: 'writer key', role: 'writer', authorId: author.id })).secret as string
  const editor = json(await post(app, '/keys', { name: 'editor key', role: 'editor' })).secret as string
  const article = json(await post(app, '/articles', { headline: 'A Story Under Review', bylines: [{ authorId: author.id }] }))
  const signOff = async (key: string) => await app.inject({ method: 'POST', url: `/articles/${article.id}/signoffs`, headers: bearer(key), payload: { kind: 'legal' } })
  const byWriter = await signOff(writer)
  t.equal(byWriter.statusCode, 403)
  t.equal(json(byWriter).code, 'SIGNOFF_NOT_ALLOWED')
  t.equal((await signOff(editor)).statusCode, 201)
  t.equal((await signOff(adminKey)).statusCode, 200, 'an admin may too; this version has its legal sign-off already')
  await app.inject({ method: 'POST', url: `/articles/${article.id}/lease`, headers: bearer(editor) })
  const takeOver = await app.inject({ method: 'POST', url: `/articles/${article.id}/lease`, headers: bearer(writer), payload: { takeOver: true } })
  t.equal(takeOver.statusCode, 403)
  t.equal((await app.inject({ method: 'POST', url: `/articles/${article.id}/lease`, headers: bearer(adminKey), payload: { takeOver: true } })).statusCode, 200)
})

t.test('a live story\'s pending revision: staff read it, editors write and publish it, writers sign off only what their role allows', async (t) => {
  const app = await buildTestApp(t, { backgroundJobs: false })
  const document = json(await app.inject({ method: 'GET', url: '/openapi.json', headers: anonymous }))
  const pending = document.paths['/articles/{id}/pending']
  t.same(['get', 'put', 'patch', 'delete'].map((method) => pending[method]['x-copydesk-access']), ['writer', 'editor', 'editor', 'editor'])
  t.equal(document.paths['/articles/{id}/pending/publish'].post['x-copydesk-access'], 'editor')
  t.equal(document.paths['/articles/{id}/pending/signoffs'].post['x-copydesk-access'], 'writer')

  const author = await createAuthor(app, { name: 'Writer Person' })
  const writer = json(await post(app, '/keys', { name: 'writer key', role: 'writer', authorId: author.id })).secret as string
  const article = json(await post(app, '/articles', { headline: 'A Live Story Under Review', status: 'published', bylines: [{ authorId: author.id }] }))
  t.equal((await app.inject({ method: 'PATCH', url: `/articles/${article.id}/pending`, headers: bearer(writer), payload: { dek: 'mine' } })).statusCode, 403, 'a writer does not edit a live story, even its own')
  t.equal((await app.inject({ method: 'PATCH', url: `/articles/${article.id}/pending`, payload: { dek: 'the desk' } })).statusCode, 201)
  const legal = await app.inject({ method: 'POST', url: `/articles/${article.id}/pending/signoffs`, headers: bearer(writer), payload: { kind: 'legal' } })
  t.equal(legal.statusCode, 403)
  t.equal(json(legal).code, 'SIGNOFF_NOT_ALLOWED', 'no legal sign-off by a writer, on a pending revision either')
  t.equal((await app.inject({ method: 'POST', url: `/articles/${article.id}/pending/publish`, headers: bearer(writer) })).statusCode, 403)
  t.equal((await app.inject({ url: `/articles/${article.id}/pending`, headers: anonymous })).statusCode, 401, 'the public never reads a pending revision')
})
