// PostgreSQL stopped and started again while editors write and readers read: requests fail fast
// with 503 and Retry-After while it is away, Copydesk recovers without a restart, and every write
// it acknowledged is there afterwards. The server here is the test's own (the shared one serves
// the other test files).
import { test } from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { buildTestApp, json, testProvider, waitFor, anonymous } from './helper.ts'
import { noClusterReason, startCluster } from './postgres-cluster.ts'

const skip = testProvider !== 'postgresql' ? 'runs against PostgreSQL (TEST_DATABASE=postgresql)' : noClusterReason

test('PostgreSQL restarted under read and write load', { skip }, async (t) => {
  const cluster = await startCluster()
  t.teardown(cluster.remove)
  const app = await buildTestApp(t, { databaseUrl: cluster.url, databaseConnectTimeoutMs: 2000 })

  const seed = json((await app.inject({ method: 'POST', url: '/articles', payload: { headline: 'Standing story', status: 'published', body: [{ type: 'paragraph', text: 'Here before.' }] } })))

  const acknowledged: string[] = []
  const unexpected: string[] = []
  const statuses = new Map<number, number>()
  let outageAnswers = 0
  let running = true
  const count = (status: number) => { statuses.set(status, (statuses.get(status) ?? 0) + 1) }
  const check = (response: LightMyRequestResponse, what: string) => {
    count(response.statusCode)
    if (response.statusCode === 503) {
      outageAnswers++
      const problem = json(response)
      if (response.headers['retry-after'] === undefined || problem.code !== 'DATABASE_UNAVAILABLE' || !String(response.headers['content-type']).startsWith('application/problem+json')) {
        unexpected.push(`${what}: 503 without Retry-After or the right problem: ${response.body}`)
      }
    } else if (response.statusCode >= 300) {
      unexpected.push(`${what}: ${response.statusCode} ${response.body}`)
    }
  }
  let written = 0
  const writer = async () => {
    while (running) {
      const headline = `Written under load ${written++}`
      const started = Date.now()
      const response = await app.inject({ method: 'POST', url: '/articles', payload: { headline, body: [{ type: 'paragraph', text: 'Filed.' }] } })
      check(response, `POST /articles (${Date.now() - started} ms)`)
      if (response.statusCode === 201) acknowledged.push(json(response).id)
    }
  }
  const reader = async (url: string, headers: Record<string, string> = {}) => {
    while (running) {
      const started = Date.now()
      check(await app.inject({ url, headers }), `GET ${url} (${Date.now() - started} ms)`)
    }
  }
  const load = [writer(), writer(), reader(`/articles/${seed.id}`), reader('/articles?status=draft&limit=5'), reader(`/articles/slug/${seed.slug}`, anonymous), reader('/articles?limit=5&sort=-updatedAt', anonymous)]

  t.ok(await waitFor(() => acknowledged.length >= 5), 'writes go through before the outage')
  await cluster.stop()
  t.ok(await waitFor(() => outageAnswers >= 20), 'while the database is away, requests are answered 503')
  const slowest = Date.now()
  const down = await app.inject({ url: '/ready', headers: anonymous })
  t.equal(down.statusCode, 503, '/ready says the instance cannot serve')
  t.ok(Date.now() - slowest < 5000, 'and says it promptly')
  const before = acknowledged.length
  await cluster.start()
  t.ok(await waitFor(async () => (await app.inject({ url: '/ready', headers: anonymous })).statusCode === 200, 30_000), 'ready again once the database is back, without a restart')
  t.ok(await waitFor(() => acknowledged.length >= before + 5, 30_000), 'writes are acknowledged again')
  running = false
  await Promise.all(load)

  t.same(unexpected, [], 'no answer other than success or 503 with Retry-After')
  t.comment(`answers by status: ${JSON.stringify(Object.fromEntries(statuses))}`)
  const missing: string[] = []
  for (const id of acknowledged) {
    if ((await app.inject({ url: `/articles/${id}` })).statusCode !== 200) missing.push(id)
  }
  t.same(missing, [], `all ${acknowledged.length} acknowledged writes are there`)
})
