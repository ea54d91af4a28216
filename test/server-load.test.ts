// The real server under load, on real sockets: a thousand connections at once, and SIGTERM while
// editors write and readers read.
import t from 'tap'
import http from 'node:http'
import { testDatabaseUrl } from './helper.ts'
import { buildOnce, freePort, memoryOf, startServer, waitForHealth } from './server-process.ts'

const adminKey = 'cdk_load-test-admin-key-0123456789abcdefghijklmnop'

t.before(buildOnce)

interface Answer { status: number, body: string, headers: http.IncomingHttpHeaders, ms: number }

function request (agent: http.Agent, base: string, method: string, path: string, body?: unknown, key?: string): Promise<Answer> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const outgoing = http.request(`${base}${path}`, {
      agent,
      method,
      headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...(key === undefined ? {} : { authorization: `Bearer ${key}` }) }
    }, (response) => {
      let text = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => { text += chunk })
      response.on('end', () => { resolve({ status: response.statusCode ?? 0, body: text, headers: response.headers, ms: performance.now() - started }) })
      response.on('error', reject)
    })
    outgoing.on('error', reject)
    outgoing.end(payload)
  })
}

async function startLoadServer (t: { teardown: (fn: () => unknown) => void }, databaseUrl?: string) {
  const port = await freePort()
  const database = databaseUrl ?? await testDatabaseUrl(t)
  const server = startServer({ PORT: String(port), DATABASE_URL: database, COPYDESK_BOOTSTRAP_KEY: adminKey, READ_RATE_LIMIT: '0', WRITE_RATE_LIMIT: '0' })
  t.teardown(() => { server.child.kill('SIGKILL') })
  const base = `http://127.0.0.1:${port}`
  await waitForHealth(base)
  return { server, base, database }
}

const percentile = (sorted: number[], p: number): number => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN)

t.test('a thousand concurrent connections: every request answered, no 5xx, memory bounded', async (t) => {
  const { server, base } = await startLoadServer(t)
  const latest = JSON.parse((await request(new http.Agent(), base, 'GET', '/articles?limit=5')).body) as { items: Array<{ slug: string }> }
  const slugs = latest.items.map((item) => item.slug)
  t.ok(slugs.length > 0, 'the demo content is there to read')

  const connections = 1000
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections })
  const paths = ['/articles?limit=20', ...slugs.map((slug) => `/articles/slug/${slug}`), '/feeds/rss', '/masthead', '/sitemap.xml']
  const statuses = new Map<number, number>()
  const latencies: number[] = []
  const failures: string[] = []
  await Promise.all(Array.from({ length: connections }, async (_, connection) => {
    for (let i = 0; i < 2; i++) {
      const path = paths[(connection + i) % paths.length] as string
      try {
        const answer = await request(agent, base, 'GET', path)
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
        latencies.push(answer.ms)
      } catch (error) {
        failures.push(`${path}: ${(error as Error).message}`)
      }
    }
  }))
  agent.destroy()
  latencies.sort((a, b) => a - b)
  const memory = memoryOf(server.child.pid as number)
  t.comment(`${connections} connections, ${latencies.length} requests: p50 ${percentile(latencies, 0.5)} ms, p95 ${percentile(latencies, 0.95)} ms, p99 ${percentile(latencies, 0.99)} ms, max ${Math.round(latencies.at(-1) ?? NaN)} ms; server VmRSS ${memory.rssMb} MB, VmHWM ${memory.peakMb} MB`)
  t.same(failures, [], 'no connection failed')
  t.same([...statuses.keys()].filter((status) => status >= 300), [], `every request answered 200 (${JSON.stringify(Object.fromEntries(statuses))})`)
  t.equal(latencies.length, connections * 2)
  t.ok(memory.peakMb < 600, `the server's peak memory stays bounded (${memory.peakMb} MB)`)
  t.equal((await request(new http.Agent(), base, 'GET', '/ready')).status, 200, 'still ready afterwards')
})

t.test('SIGTERM under load: in-flight requests finish, nothing acknowledged is lost, no 5xx', async (t) => {
  const { server, base, database } = await startLoadServer(t)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 40 })
  const acknowledged: string[] = []
  const answers = new Map<number, number>()
  const lostInFlight: string[] = []
  let sigtermAt = Infinity
  let refusedAfterSigterm = 0
  let stop = false
  const worker = async (writer: boolean, n: number) => {
    for (let i = 0; !stop; i++) {
      const sentAt = performance.now()
      try {
        const answer = writer
          ? await request(agent, base, 'POST', '/articles', { headline: `Filed during shutdown ${n}-${i}`, body: [{ type: 'paragraph', text: 'Filed.' }] }, adminKey)
          : await request(agent, base, 'GET', i % 2 === 0 ? '/articles?limit=10' : `/articles?status=draft&limit=5`, undefined, i % 2 === 0 ? undefined : adminKey)
        answers.set(answer.status, (answers.get(answer.status) ?? 0) + 1)
        if (writer && answer.status === 201) acknowledged.push((JSON.parse(answer.body) as { id: string }).id)
      } catch (error) {
        // Once the server has stopped listening, new connections are refused: that is the shutdown
        // working. A request sent before SIGTERM must have been answered.
        if (sentAt < sigtermAt) lostInFlight.push((error as Error).message)
        else refusedAfterSigterm++
        if (sentAt >= sigtermAt) return
      }
    }
  }
  const load = [...Array.from({ length: 8 }, (_, n) => worker(true, n)), ...Array.from({ length: 12 }, (_, n) => worker(false, n))]
  while (acknowledged.length < 20) await new Promise((resolve) => setTimeout(resolve, 20))
  sigtermAt = performance.now()
  server.child.kill('SIGTERM')
  const [code] = await server.exited
  stop = true
  await Promise.all(load)
  agent.destroy()
  t.equal(code, 0, 'the server exits 0')
  t.same(lostInFlight, [], 'every request sent before SIGTERM was answered')
  t.same([...answers.keys()].filter((status) => status >= 500), [], `no 5xx (${JSON.stringify(Object.fromEntries(answers))}; ${refusedAfterSigterm} requests refused after SIGTERM)`)

  const again = await startLoadServer(t, database)
  const reader = new http.Agent({ keepAlive: true, maxSockets: 8 })
  const missing = (await Promise.all(acknowledged.map(async (id) => (await request(reader, again.base, 'GET', `/articles/${id}`, undefined, adminKey)).status === 200 ? [] : [id]))).flat()
  reader.destroy()
  t.same(missing, [], `all ${acknowledged.length} acknowledged writes are there after a restart`)
  again.server.child.kill('SIGTERM')
  t.equal((await again.server.exited)[0], 0)
})
