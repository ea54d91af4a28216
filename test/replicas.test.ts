// Read replicas (DATABASE_READ_URL) on a real PostgreSQL streaming replica of the test server:
// keyless reads are answered by it, nothing anyone reads after a write is older than that write,
// a replica that stops or falls behind is skipped without failing a request, and /ready says so.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { loadConfig, ConfigError } from '../src/config.ts'
import { anonymous, buildTestApp, json, post, testDatabaseUrl, testProvider, waitFor } from './helper.ts'
import { startTestReplica, type TestReplica } from './replica.ts'

const needsPostgres = testProvider === 'postgresql' ? false : 'read replicas need PostgreSQL (TEST_DATABASE=postgresql)'

interface Connection { name: string, role: string, state: string, lagMs?: number | null, publicReads: number }
async function readiness (app: FastifyInstance): Promise<{ statusCode: number, status: string, primary: Connection, replica: Connection }> {
  const response = await app.inject({ method: 'GET', url: '/ready', headers: anonymous })
  const body = json(response)
  return { statusCode: response.statusCode, status: body.status, primary: body.databases[0], replica: body.databases[1] }
}

t.test('DATABASE_READ_URL is refused at start beside SQLite, and must name PostgreSQL', async (t) => {
  t.throws(() => loadConfig({ DATABASE_URL: 'file:./data/x.db', DATABASE_READ_URL: 'postgresql://replica.internal/copydesk' }), ConfigError)
  t.throws(() => loadConfig({ DATABASE_URL: 'file:./data/x.db', DATABASE_READ_URL: 'postgresql://replica.internal/copydesk' }), /DATABASE_READ_URL: read replicas need PostgreSQL/)
  t.throws(() => loadConfig({ DATABASE_URL: 'postgresql://primary.internal/copydesk', DATABASE_READ_URL: 'postgresql://a.internal/copydesk,mysql://b.internal/copydesk' }), /DATABASE_READ_URL: "mysql:\/\/b.internal\/copydesk" is not a postgres/)
  const config = loadConfig({ DATABASE_URL: 'postgresql://primary.internal/copydesk', DATABASE_READ_URL: 'postgresql://a.internal/copydesk, postgres://b.internal/copydesk' })
  t.equal(config.databaseReadUrl, 'postgresql://a.internal/copydesk, postgres://b.internal/copydesk')
})

t.test('keyless reads go to a streaming replica, never older than a write, and survive it stopping', { skip: needsPostgres }, async (t) => {
  const databaseUrl = await testDatabaseUrl(t)
  const replica: TestReplica = await startTestReplica(t, process.env.TEST_POSTGRES_URL as string)
  // No response cache: every keyless read below reaches a database.
  const app = await buildTestApp(t, { databaseUrl, databaseReadUrl: replica.urlOf(databaseUrl), databaseReadCheckIntervalMs: 100, databaseReadMaxLagMs: 1000, responseCacheMb: 0, backgroundJobs: false })
  t.ok(await waitFor(async () => (await readiness(app)).replica?.state === 'up'), 'the replica is in use once it has the schema')
  const ready = await readiness(app)
  t.equal(ready.statusCode, 200)
  t.equal(ready.status, 'ready')
  t.match(ready.replica, { name: 'replica-1', role: 'replica', state: 'up', lagMs: Number })

  const article = json(await post(app, '/articles', { headline: 'Version 0', status: 'published' }))
  const read = async (headers: Record<string, string>): Promise<{ statusCode: number, headline: string }> => {
    const response = await app.inject({ method: 'GET', url: `/articles/${article.id as string}`, headers })
    return { statusCode: response.statusCode, headline: json(response).headline }
  }

  await t.test('public reads are answered by the replica', async (t) => {
    const before = await readiness(app)
    const scansBefore = await replica.query<{ scans: string }>(databaseUrl, 'SELECT COALESCE(sum(idx_scan), 0)::text AS scans FROM pg_stat_user_tables WHERE relname = \'PublicArticle\'')
    for (let i = 0; i < 20; i++) t.equal((await read(anonymous)).headline, 'Version 0')
    const after = await readiness(app)
    t.ok(after.replica.publicReads - before.replica.publicReads >= 15, `the replica answered ${after.replica.publicReads - before.replica.publicReads} of 20 reads`)
    // The replica's own statistics agree: its index on PublicArticle was read.
    t.ok(await waitFor(async () => {
      const [row] = await replica.query<{ scans: string }>(databaseUrl, 'SELECT COALESCE(sum(idx_scan), 0)::text AS scans FROM pg_stat_user_tables WHERE relname = \'PublicArticle\'')
      return Number(row?.scans) >= Number(scansBefore[0]?.scans) + 15
    }), 'the replica counted the reads itself')
  })

  await t.test('a read after a write shows it, for the writing key and for the public', async (t) => {
    for (let version = 1; version <= 15; version++) {
      const patched = await app.inject({ method: 'PATCH', url: `/articles/${article.id as string}`, payload: { headline: `Version ${version}` } })
      t.equal(patched.statusCode, 200)
      const [staff, visitor] = [await read({}), await read(anonymous)]
      if (staff.headline !== `Version ${version}` || visitor.headline !== `Version ${version}`) {
        t.fail(`stale read after version ${version}: staff saw ${staff.headline}, the public ${visitor.headline}`)
        return
      }
    }
    t.pass('15 writes, each read back at once by its key and by the public, none stale')
  })

  await t.test('a replica behind the primary is passed over, then skipped while lagging, then used again', async (t) => {
    await replica.query(databaseUrl, 'SELECT pg_wal_replay_pause()')
    const patched = await app.inject({ method: 'PATCH', url: `/articles/${article.id as string}`, payload: { headline: 'Written while the replica is paused' } })
    t.equal(patched.statusCode, 200)
    const primaryBefore = (await readiness(app)).primary.publicReads
    t.equal((await read(anonymous)).headline, 'Written while the replica is paused', 'the public reads the write from the primary')
    t.ok((await readiness(app)).primary.publicReads > primaryBefore, 'the primary answered it')
    t.ok(await waitFor(async () => (await readiness(app)).replica.state === 'lagging'), 'past DATABASE_READ_MAX_LAG_MS the replica is lagging')
    const degraded = await readiness(app)
    t.equal(degraded.statusCode, 200, 'a lagging replica leaves the instance ready')
    t.equal(degraded.status, 'degraded')
    await replica.query(databaseUrl, 'SELECT pg_wal_replay_resume()')
    t.ok(await waitFor(async () => (await readiness(app)).replica.state === 'up'), 'caught up, it is used again')
    const replicaBefore = (await readiness(app)).replica.publicReads
    t.equal((await read(anonymous)).headline, 'Written while the replica is paused')
    t.ok((await readiness(app)).replica.publicReads > replicaBefore, 'by the replica')
  })

  await t.test('stopping the replica under load fails no request', async (t) => {
    const statuses = new Map<number, number>()
    let stopped = false
    let afterStop = 0
    const worker = async (): Promise<void> => {
      // Until the replica is down and well past it.
      while (!stopped || afterStop < 200) {
        const { statusCode } = await read(anonymous)
        statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1)
        if (stopped) afterStop++
      }
    }
    const load = Promise.all([worker(), worker(), worker(), worker()])
    const replicaBefore = (await readiness(app)).replica.publicReads
    t.ok(await waitFor(async () => (await readiness(app)).replica.publicReads > replicaBefore + 50), 'the replica is answering the load')
    await replica.stop()
    stopped = true
    await load
    t.same([...statuses.keys()], [200], `every one of ${[...statuses.values()].reduce((a, b) => a + b, 0)} reads answered 200`)
    const after = await readiness(app)
    t.equal(after.statusCode, 200, 'the instance stays ready')
    t.equal(after.status, 'degraded')
    t.equal(after.replica.state, 'down')
    await replica.start()
    t.ok(await waitFor(async () => (await readiness(app)).replica.state === 'up'), 'a replica that comes back is used again')
  })
})
