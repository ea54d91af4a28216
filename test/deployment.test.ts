// docker-compose.yml and the Dockerfile cannot be run here (no Docker engine), so they are read
// and checked against what the app actually needs.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { loadConfig } from '../src/config.ts'
import { providerOf } from '../src/db/providers.ts'

t.test('docker-compose.yml runs the app on PostgreSQL once the database is healthy', async (t) => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8'))
  const db = compose.services.db
  const app = compose.services.app
  t.match(db.image, /^postgres:\d+/, 'official PostgreSQL image')
  t.ok(db.volumes.some((volume: string) => volume.startsWith('db-data:')), 'data on a named volume')
  t.ok('db-data' in compose.volumes)
  t.match(db.healthcheck.test.join(' '), 'pg_isready')
  t.equal(app.build, '.', 'the app is built from the repository')
  t.equal(app.depends_on.db.condition, 'service_healthy')

  const resolve = (value: string) => value.replace(/\$\{(\w+):-([^}]*)\}/g, (_, name: string, fallback: string) => process.env[name] ?? fallback)
  const env = Object.fromEntries(Object.entries<string>(app.environment).map(([key, value]) => [key, resolve(String(value))]))
  const config = loadConfig(env)
  t.equal(providerOf(config.databaseUrl), 'postgresql')
  const url = new URL(config.databaseUrl)
  t.equal(url.hostname, 'db', 'reaches the db service by name')
  t.equal(url.username, db.environment.POSTGRES_USER)
  t.equal(decodeURIComponent(url.password), resolve(db.environment.POSTGRES_PASSWORD))
  t.equal(url.pathname, `/${db.environment.POSTGRES_DB}`)
  t.equal(config.host, '0.0.0.0', 'listens outside the container')
  t.ok(app.ports.some((port: string) => port.endsWith(`:${config.port}`)), 'publishes the port the app listens on')
})

t.test('the Dockerfile installs from the lockfile and starts the server', async (t) => {
  const dockerfile = readFileSync('Dockerfile', 'utf8')
  t.match(dockerfile, /^FROM node:20/m)
  t.match(dockerfile, /npm ci/)
  t.match(dockerfile, /COPY prisma \.\/prisma\n[\s\S]*RUN npm ci/, 'prisma/ is there before npm ci runs the client generation')
  t.match(dockerfile, /CMD \["node", "--import", "tsx", "src\/server\.ts"\]/)
  t.match(dockerfile, /USER node/, 'does not run as root')
  const start = JSON.parse(readFileSync('package.json', 'utf8')).scripts.start
  t.equal(start, 'node --import tsx src/server.ts', 'the same command as npm start')
})
