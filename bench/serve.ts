// One server for the benchmark, in its own process so it does not share a core with the load
// generator: `app` is Copydesk itself; `bare` is a plain Fastify route replying with fixed bytes.
import Fastify from 'fastify'
import { readFileSync } from 'node:fs'
import { buildApp } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'

const mode = process.argv[2]
if (mode === 'app') {
  const app = await buildApp(loadConfig(process.env, { logLevel: 'silent', seedDemoContent: false, readRateLimit: 0 }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  process.send?.({ port: (app.server.address() as { port: number }).port })
} else {
  const responses = JSON.parse(readFileSync(process.argv[3] as string, 'utf8')) as Record<string, { type: string, base64: string }>
  const bare = Fastify({ logger: false })
  for (const [path, { type, base64 }] of Object.entries(responses)) {
    const body = Buffer.from(base64, 'base64')
    bare.get(path, async (_request, reply) => await reply.type(type).send(body))
  }
  await bare.listen({ port: 0, host: '127.0.0.1' })
  process.send?.({ port: (bare.server.address() as { port: number }).port })
}
