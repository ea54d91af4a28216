// Runs the compiled server (or one of the operational commands) from dist/, building dist/ first
// when it is missing or older than the sources: `npm start` on a fresh clone, or after an edit,
// runs the code as it is now, with no TypeScript transform at run time.
//   node src/launch.mjs [entry]      entry: server (default), db/migrate-cli, db/seed-cli, …
//   node src/launch.mjs --build      builds if needed and exits (npm install runs this)
//   node src/launch.mjs --rebuild    builds and exits (npm run build)
// Plain JavaScript, because it must run before anything is compiled.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const sourceDir = join(root, 'src')
const outputDir = join(root, 'dist')
// Written after a successful build: its time is the time of the sources it was built from.
const stamp = join(outputDir, '.built')

function newestSourceTime (dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestSourceTime(path) : statSync(path).mtimeMs)
  }
  return newest
}

function isStale () {
  if (!existsSync(stamp)) return true
  // A production image ships dist/ without the sources: nothing to compare, nothing to rebuild.
  if (!existsSync(sourceDir)) return false
  const configs = ['tsconfig.json', 'tsconfig.build.json'].map((name) => statSync(join(root, name)).mtimeMs)
  return Math.max(newestSourceTime(sourceDir), ...configs) > statSync(stamp).mtimeMs
}

function typescriptCompiler () {
  try {
    return createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc')
  } catch {
    return null
  }
}

// TypeScript leaves a dynamic import('./x.ts') as it is in a file that also augments a module
// (`declare module`), so the build checks its output rather than trusting rewriteRelativeImportExtensions.
function importsOfTypeScript (dir) {
  const found = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) found.push(...importsOfTypeScript(path))
    else if (entry.name.endsWith('.js') && /(?:from|import\(|require\()\s*['"]\.{1,2}\/[^'"]*\.ts['"]/.test(readFileSync(path, 'utf8'))) found.push(path)
  }
  return found
}

// The server, bundled with its pure-JavaScript dependencies into a few files: one module instead of
// about 1,400 to load and keep resident, about 0.9 s less to start and 12 MB less at idle. Two levels
// under the root, as dist/db/*.js are, so paths to prisma/ resolve the same way. Packages with native
// code or files of their own (Swagger UI's assets) stay in node_modules. Whitespace is minified
// (names are kept) so that no comment of a dependency makes the source two-byte: V8 keeps a module's
// source in memory, and one non-ASCII character doubles it. `node --enable-source-maps` maps stack
// traces back to dist/.
const bundleDir = join(outputDir, 'bundle')
function bundleServer () {
  const esbuild = createRequire(join(root, 'package.json'))('esbuild')
  rmSync(bundleDir, { recursive: true, force: true })
  esbuild.buildSync({
    entryPoints: [join(outputDir, 'server.js')],
    outdir: bundleDir,
    bundle: true,
    splitting: true, // lazily imported parts (the S3 SDK, the PostgreSQL client) stay lazy
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['better-sqlite3', 'sharp', 'pg', 'pg-native', '@fastify/swagger-ui'],
    // CommonJS dependencies call require(); an ES module has none of its own.
    banner: { js: 'import { createRequire as createRequireOfBundle } from \'node:module\'; const require = createRequireOfBundle(import.meta.url);' },
    minifyWhitespace: true,
    charset: 'ascii',
    legalComments: 'external',
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'warning'
  })
}

/** Returns false when there is nothing to build with (a production install without TypeScript). */
function build () {
  const tsc = typescriptCompiler()
  if (tsc === null) return false
  const startedAt = Date.now()
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
  if (result.status !== 0) {
    console.error('Copydesk could not be built (npm run build): see the compiler\'s messages above.')
    process.exit(result.status ?? 1)
  }
  const unrewritten = importsOfTypeScript(outputDir)
  if (unrewritten.length > 0) {
    console.error(`Copydesk was built with imports of .ts files, which the compiled server cannot load:\n  ${unrewritten.join('\n  ')}`)
    process.exit(1)
  }
  bundleServer()
  writeFileSync(stamp, new Date(startedAt).toISOString() + '\n')
  // Dated when the build began, so a source saved while it ran still counts as newer.
  utimesSync(stamp, startedAt / 1000, startedAt / 1000)
  return true
}

const [argument = 'server'] = process.argv.slice(2)
if (argument === '--build' || argument === '--rebuild') {
  if (existsSync(sourceDir) && (argument === '--rebuild' || isStale()) && !build()) {
    console.warn('TypeScript is not installed: Copydesk was not built (building needs the dev dependencies).')
    process.exit(argument === '--rebuild' ? 1 : 0)
  }
  process.exit(0)
}
if (isStale() && !build() && !existsSync(join(outputDir, 'server.js'))) {
  console.error('Copydesk is not built and TypeScript is not installed: run `npm install` (with dev dependencies), then `npm run build`.')
  process.exit(1)
}
// The command runs as if started directly: its own argv, without this launcher's argument.
process.argv.splice(2, 1)
// The server runs from its bundle; operational commands (migrate, seed, …) from dist/ as compiled.
const entry = argument === 'server' && existsSync(join(bundleDir, 'server.js')) ? join(bundleDir, 'server.js') : join(outputDir, `${argument}.js`)
await import(pathToFileURL(entry).href)
