import t from 'tap'
import { buildTestApp, json } from './helper.ts'

t.test('health and readiness answer for load balancers', async (t) => {
  const app = await buildTestApp(t)
  const health = await app.inject({ method: 'GET', url: '/health' })
  t.equal(health.statusCode, 200)
  t.same(json(health), { status: 'ok' })
  const ready = await app.inject({ method: 'GET', url: '/ready' })
  t.equal(ready.statusCode, 200)
  t.same(json(ready), { status: 'ready', databases: [{ name: 'primary', role: 'primary', state: 'up', publicReads: 0 }] })
  t.match(ready.headers['x-request-id'], /^[0-9a-f-]{36}$/)
})

t.test('readiness fails with 503 while a migration is not applied', async (t) => {
  const app = await buildTestApp(t)
  const [latest] = await app.db.$queryRawUnsafe<Array<{ migration_name: string }>>('SELECT migration_name FROM _prisma_migrations ORDER BY migration_name DESC LIMIT 1')
  await app.db.$executeRaw`DELETE FROM _prisma_migrations WHERE migration_name = ${latest!.migration_name}`
  const ready = await app.inject({ method: 'GET', url: '/ready' })
  t.equal(ready.statusCode, 503)
  t.equal(json(ready).code, 'NOT_READY')
  t.match(json(ready).detail, latest!.migration_name)
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200, 'liveness is unaffected')
})
