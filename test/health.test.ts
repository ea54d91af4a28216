import t from 'tap'
import { buildTestApp, json } from './helper.ts'

t.test('health and readiness answer for load balancers', async (t) => {
  const app = await buildTestApp(t)
  const health = await app.inject({ method: 'GET', url: '/health' })
  t.equal(health.statusCode, 200)
  t.same(json(health), { status: 'ok' })
  const ready = await app.inject({ method: 'GET', url: '/ready' })
  t.equal(ready.statusCode, 200)
  t.same(json(ready), { status: 'ready' })
  t.match(ready.headers['x-request-id'], /^[0-9a-f-]{36}$/)
})
