// A PostgreSQL server of the test's own, for tests that stop, restart or copy a server: the shared
// one (TEST_POSTGRES_URL) serves every other test file at the same time and must stay up.
import { execFileSync, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { freePort } from './server-process.ts'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const binDir = ((): string | undefined => {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  return readdirSync(root).map((version) => join(root, version, 'bin')).find((dir) => existsSync(join(dir, 'initdb')))
})()

/** Why a test that needs its own server cannot have one here, or undefined when it can. */
export const noClusterReason = binDir === undefined ? 'no PostgreSQL server binaries under /usr/lib/postgresql' : undefined

// PostgreSQL refuses to run as root: CI runs the suite as root, so the server runs as postgres there.
const asRoot = process.getuid?.() === 0
function run (program: string, args: string[]): void {
  const [command, commandArgs] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(binDir as string, program), ...args]] : [join(binDir as string, program), args]
  const result = spawnSync(command, commandArgs, { encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`${program} ${args.join(' ')} failed: ${result.stderr}${result.stdout}`)
}

export interface PostgresCluster {
  url: string
  port: number
  dataDir: string
  /** Stops the server at once (-m fast: open sessions are cut, as in a failover or a restart). */
  stop: () => void
  start: () => void
  /** Stops and removes it all. */
  remove: () => void
}

interface ClusterOptions { settings?: string[] }

/** initdb + start on a free port, fsync off: a throw-away server for one test. */
export async function startCluster (options: ClusterOptions = {}): Promise<PostgresCluster> {
  if (binDir === undefined) throw new Error(noClusterReason)
  const root = mkdtempSync(join(tmpdir(), 'copydesk-cluster-'))
  if (asRoot) execFileSync('id', ['postgres']) && chownSync(root, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), 0)
  const dataDir = join(root, 'data')
  run('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--locale=C.UTF-8', '-E', 'UTF8', '-N'])
  return await clusterAt(root, dataDir, options)
}

/** Runs the server whose data directory is `dataDir` (made by initdb or pg_basebackup) on a free port. */
export async function clusterAt (root: string, dataDir: string, options: ClusterOptions = {}): Promise<PostgresCluster> {
  const port = await freePort()
  const serverOptions = ['-c listen_addresses=127.0.0.1', `-p ${port}`, `-k ${root}`, '-c fsync=off', '-c full_page_writes=off', ...(options.settings ?? []).map((setting) => `-c ${setting}`)].join(' ')
  const cluster: PostgresCluster = {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    start: () => { run('pg_ctl', ['-D', dataDir, '-l', join(root, 'server.log'), '-w', '-t', '60', '-o', serverOptions, 'start']) },
    stop: () => { run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']) },
    remove: () => {
      spawnSync(asRoot ? 'runuser' : join(binDir as string, 'pg_ctl'), asRoot ? ['-u', 'postgres', '--', join(binDir as string, 'pg_ctl'), '-D', dataDir, '-m', 'immediate', 'stop'] : ['-D', dataDir, '-m', 'immediate', 'stop'])
      rmSync(root, { recursive: true, force: true })
    }
  }
  cluster.start()
  return cluster
}
