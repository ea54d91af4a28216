// The real server process, as `npm start` runs it (compiled, through src/launch.mjs): configuration,
// first-start seeding, instances starting together, graceful shutdown.
import t from 'tap'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config.ts'
import { testDatabaseUrl, testProvider } from './helper.ts'
import { buildOnce, freePort, startServer, waitForHealth } from './server-process.ts'
import { startS3Server } from './s3-server.ts'
import sharp from 'sharp'

t.before(buildOnce)

t.test('the server runs from one bundle, kept ASCII so V8 holds its source at one byte a character', async (t) => {
  const bundle = join('dist', 'bundle')
  const files = readdirSync(bundle).filter((name) => name.endsWith('.js'))
  t.ok(files.includes('server.js'))
  for (const name of files) t.notOk(/[^\x00-\x7f]/.test(readFileSync(join(bundle, name), 'latin1')), `${name} is ASCII`)
})

t.test('the server migrates and seeds an empty database, serves it, and stops cleanly on SIGTERM', async (t) => {
  const port = await freePort()
  const server = startServer({ PORT: String(port), DATABASE_URL: await testDatabaseUrl(t) })
  t.teardown(() => { server.child.kill('SIGKILL') })
  const base = `http://127.0.0.1:${port}`
  await waitForHealth(base)
  t.equal((await fetch(`${base}/ready`)).status, 200, 'ready once migrated')

  const latest = await (await fetch(`${base}/articles`)).json() as { total: number }
  t.ok(latest.total >= 4, 'demo content is there on the database\'s first start')
  const docs = await fetch(`${base}/docs/`)
  t.equal(docs.status, 200, 'Swagger UI is served')
  const spec = await (await fetch(`${base}/openapi.json`)).json() as { openapi: string }
  t.equal(spec.openapi, '3.1.0')

  server.child.kill('SIGTERM')
  const [code] = await server.exited
  t.equal(code, 0, `exit 0 after SIGTERM; output: ${server.output()}`)
})

t.test('SEED_DEMO_CONTENT=false starts empty, and the first start prints the first admin key once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'copydesk-server-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const port = await freePort()
  const server = startServer({ PORT: String(port), DATABASE_URL: `file:${join(dir, 'copydesk.db')}`, SEED_DEMO_CONTENT: 'false' })
  t.teardown(() => { server.child.kill('SIGKILL') })
  await waitForHealth(`http://127.0.0.1:${port}`)
  const firstKey = /cdk_[A-Za-z0-9_-]{43}/.exec(server.output())?.[0]
  t.ok(firstKey, 'the log shows the first admin key')
  t.equal((await fetch(`http://127.0.0.1:${port}/articles?status=any`)).status, 401, 'drafts need a key')
  const latest = await (await fetch(`http://127.0.0.1:${port}/articles?status=any`, { headers: { authorization: `Bearer ${firstKey}` } })).json() as { total: number }
  t.equal(latest.total, 0)
  server.child.kill('SIGTERM')
  t.equal((await server.exited)[0], 0)

  const again = startServer({ PORT: String(port), DATABASE_URL: `file:${join(dir, 'copydesk.db')}`, SEED_DEMO_CONTENT: 'false' })
  t.teardown(() => { again.child.kill('SIGKILL') })
  await waitForHealth(`http://127.0.0.1:${port}`)
  t.notMatch(again.output(), /cdk_/, 'a restart prints no key')
  t.equal((await fetch(`http://127.0.0.1:${port}/me`, { headers: { authorization: `Bearer ${firstKey}` } })).status, 200, 'the first key still works')
  again.child.kill('SIGTERM')
  t.equal((await again.exited)[0], 0)
})

t.test('the compiled server stores uploads in S3-compatible storage and serves them back', async (t) => {
  const s3 = await startS3Server()
  const dir = mkdtempSync(join(tmpdir(), 'copydesk-server-'))
  const port = await freePort()
  const server = startServer({
    PORT: String(port),
    DATABASE_URL: `file:${join(dir, 'copydesk.db')}`,
    SEED_DEMO_CONTENT: 'false',
    IMAGE_STORAGE: 's3',
    S3_BUCKET: s3.bucket,
    S3_ENDPOINT: s3.endpoint,
    S3_REGION: 'us-east-1',
    S3_ACCESS_KEY_ID: 'S3RVER',
    S3_SECRET_ACCESS_KEY: 'S3RVER',
    S3_FORCE_PATH_STYLE: 'true'
  })
  t.teardown(async () => {
    server.child.kill('SIGKILL')
    await server.exited
    await s3.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const base = `http://127.0.0.1:${port}`
  await waitForHealth(base)
  const key = /cdk_[A-Za-z0-9_-]{43}/.exec(server.output())?.[0]
  const photo = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#336699' } }).jpeg().toBuffer()
  const uploaded = await fetch(`${base}/images/upload?altText=Harbour`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'image/jpeg' }, body: photo })
  t.equal(uploaded.status, 201, `the upload is stored; output: ${server.output()}`)
  const image = await uploaded.json() as { url: string }
  const file = await fetch(new URL(image.url, base), { headers: { authorization: `Bearer ${key}` } })
  t.equal(file.status, 200)
  t.match(await sharp(Buffer.from(await file.arrayBuffer())).metadata(), { format: 'jpeg', width: 640, height: 480 }, 'the photo comes back from the bucket')
  const notJson = server.output().split('\n').filter((line) => line !== '' && !line.startsWith('{'))
  t.same(notJson, [], 'every line of output is JSON, the AWS SDK\'s warnings included')
  t.notMatch(server.output(), 'public read model', 'a new database is not warned about as a stale read model')
})

t.test('four instances started at once on an empty database all come up, and start-up work happens once', { skip: testProvider === 'sqlite' ? 'several instances share a PostgreSQL database, not a SQLite file' : false }, async (t) => {
  const databaseUrl = await testDatabaseUrl(t)
  const key = 'cdk_together-0123456789abcdefghijklmnopqrstuvwxyzABCD'
  const ports = await Promise.all([0, 1, 2, 3].map(async () => await freePort()))
  const servers = ports.map((port) => startServer({ PORT: String(port), DATABASE_URL: databaseUrl, COPYDESK_BOOTSTRAP_KEY: key, LOG_LEVEL: 'info' }))
  t.teardown(() => { for (const server of servers) server.child.kill('SIGKILL') })
  await Promise.all(ports.map(async (port) => { await waitForHealth(`http://127.0.0.1:${port}`, Date.now() + 120_000) }))
  const outputs = servers.map((server) => server.output())
  t.equal(outputs.filter((output) => output.includes('applied database migrations')).length, 1, 'one instance migrated')
  t.equal(outputs.filter((output) => output.includes('seeded demo content')).length, 1, 'one instance seeded')
  t.equal(outputs.filter((output) => /cdk_[A-Za-z0-9_-]{43}/.test(output.replaceAll(key, ''))).length, 0, 'no first key is created beside the bootstrap key')
  const totals = await Promise.all(ports.map(async (port) => ((await (await fetch(`http://127.0.0.1:${port}/articles`)).json()) as { total: number }).total))
  t.ok(totals[0] !== undefined && totals[0] >= 4, 'the demo content is there')
  t.same(new Set(totals).size, 1, 'every instance serves the same content')
  const keys = await (await fetch(`http://127.0.0.1:${ports[1]}/keys`, { headers: { authorization: `Bearer ${key}` } })).json() as { items: Array<{ name: string }> }
  t.equal(keys.items.length, 1, 'exactly one key: the bootstrap key')
  for (const server of servers) server.child.kill('SIGTERM')
  t.same((await Promise.all(servers.map(async (server) => await server.exited))).map(([code]) => code), [0, 0, 0, 0], 'all stop cleanly')
})

t.test('an unreachable database stops the start quickly with a clear message, after bounded retries', async (t) => {
  const started = Date.now()
  const server = startServer({ DATABASE_URL: 'postgresql://copydesk:secret@127.0.0.1:1/copydesk', DATABASE_CONNECT_RETRIES: '2', DATABASE_CONNECT_TIMEOUT_MS: '1000' })
  const [code] = await server.exited
  t.equal(code, 1)
  t.match(server.output(), /Could not prepare the database named by DATABASE_URL/)
  t.notMatch(server.output(), 'secret', 'the password is not logged')
  t.equal(server.output().match(/retry \d of 2/g)?.length, 2, 'each retry is logged')
  t.ok(Date.now() - started < 20_000, 'and it does not hang')
})

t.test('bad configuration stops the start with a message naming the variable', async (t) => {
  for (const [env, expected] of [
    [{ PORT: 'eighty' }, /PORT/],
    [{ DATABASE_URL: 'mysql://db/copydesk' }, /DATABASE_URL/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/]
  ] as const) {
    const server = startServer(env)
    const [code] = await server.exited
    t.equal(code, 1, `${JSON.stringify(env)} exits 1`)
    t.match(server.output(), expected)
    t.notMatch(server.output(), /\n\s+at /, 'no stack trace')
  }
})

t.test('configuration reads the environment with typed defaults', async (t) => {
  const config = loadConfig({})
  t.equal(config.port, 3000)
  t.equal(config.host, '127.0.0.1')
  t.equal(config.databaseUrl, 'file:./data/copydesk.db')
  t.equal(config.seedDemoContent, true)
  t.equal(loadConfig({ SEED_DEMO_CONTENT: 'off', PORT: '8080', BODY_LIMIT_BYTES: '2048' }).seedDemoContent, false)
  t.throws(() => loadConfig({ SEED_DEMO_CONTENT: 'maybe' }), /SEED_DEMO_CONTENT/)
  t.throws(() => loadConfig({ PORT: '70000' }), /PORT/)
})

t.test('keys never reach the log: not on use, not when wrong, not in a configuration error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'copydesk-server-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const port = await freePort()
  const key = 'cdk_log-check-0123456789abcdefghijklmnopqrstuvwxyz'
  const server = startServer({ PORT: String(port), DATABASE_URL: `file:${join(dir, 'copydesk.db')}`, SEED_DEMO_CONTENT: 'false', LOG_LEVEL: 'trace', COPYDESK_BOOTSTRAP_KEY: key })
  t.teardown(() => { server.child.kill('SIGKILL') })
  await waitForHealth(`http://127.0.0.1:${port}`)
  const base = `http://127.0.0.1:${port}`
  t.equal((await fetch(`${base}/me`, { headers: { authorization: `Bearer ${key}` } })).status, 200)
  t.equal((await fetch(`${base}/me`, { headers: { authorization: `Bearer ${key}x` } })).status, 401)
  t.equal((await fetch(`${base}/keys`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{"name":"x","role":"writer"}' })).status, 400)
  server.child.kill('SIGTERM')
  await server.exited
  t.match(server.output(), /incoming request/, 'requests were logged')
  t.notMatch(server.output(), 'log-check-0123456789', 'but never the key')

  const misconfigured = startServer({ DATABASE_URL: `file:${join(dir, 'other.db')}`, COPYDESK_BOOTSTRAP_KEY: 'short secret value!' })
  const [code] = await misconfigured.exited
  t.equal(code, 1)
  t.match(misconfigured.output(), 'COPYDESK_BOOTSTRAP_KEY')
  t.notMatch(misconfigured.output(), 'short secret value', 'a rejected key is not echoed')
})
