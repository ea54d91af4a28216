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
  t.ok(app.volumes.some((volume: string) => volume === 'app-data:/app/data') && 'app-data' in compose.volumes, 'uploaded images outlive the container')
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

t.test('the Dockerfile builds in one stage and ships only what runs, on Node 24', async (t) => {
  const dockerfile = readFileSync('Dockerfile', 'utf8')
  const [build = '', runtime = ''] = dockerfile.split(/^FROM /m).slice(1)
  t.ok(build !== '' && runtime !== '', 'two stages')
  t.match(build, /^node:24\S* AS build/, 'the build stage runs Node 24')
  t.match(runtime, /^node:24/, 'so does the image')
  t.match(build, /COPY prisma \.\/prisma\n[\s\S]*RUN npm ci/, 'prisma/ is there before npm ci runs the client generation')
  t.match(build, /npm run build/)
  t.match(build, /npm prune --omit=dev/, 'development dependencies stay behind')
  t.notMatch(runtime, /COPY (--from=build \/app\/)?src/, 'the sources stay behind')
  t.match(runtime, /COPY --from=build \/app\/dist \.\/dist/)
  t.match(runtime, /COPY --from=build \/app\/prisma \.\/prisma/, 'migrations are applied at start')
  const command = JSON.parse(/^CMD (\[.*\])$/m.exec(runtime)?.[1] ?? '[]') as string[]
  t.equal(command.at(-1), 'dist/bundle/server.js', 'compiled JavaScript, bundled, no TypeScript loader')
  t.match(runtime, /USER node/, 'does not run as root')
  t.match(runtime, /VOLUME \/app\/data/, 'the embedded database and images are on a volume')
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string }, dependencies: Record<string, string>, engines: { node: string } }
  const startWords = pkg.scripts.start.split(' ')
  const startEnvironment = startWords.filter((word) => /^[A-Z_]+=/.test(word))
  t.same(startWords.slice(startEnvironment.length), [...command.slice(0, -1), 'src/launch.mjs'], 'npm start runs the compiled server (building it when missing or stale) with the same Node options')
  t.same(startEnvironment, ['MALLOC_ARENA_MAX=2', 'MALLOC_MMAP_THRESHOLD_=131072'], 'npm start tunes glibc\'s malloc for image decoding')
  for (const assignment of startEnvironment) t.match(runtime, new RegExp(`^(ENV)? +${assignment}( \\\\)?$`, 'm'), `so does the image (${assignment})`)
  for (const devOnly of ['tsx', 'typescript', 'prisma']) t.notOk(devOnly in pkg.dependencies, `${devOnly} is not a production dependency`)
  t.match(pkg.engines.node, />=22/, 'Node 22 and later')
})
