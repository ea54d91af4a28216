// A PostgreSQL server of the test's own, for tests that stop, restart or copy a server: the shared
// one (TEST_POSTGRES_URL) serves every other test file at the same time and must stay up. The
// server binaries run asynchronously, so requests in flight go on while a server stops or starts.
import { execFile } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from './server-process.ts'

const execFileAsync = promisify(execFile)

const binDir = ((): string | undefined => {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  return readdirSync(root).map((version) => join(root, version, 'bin')).find((dir) => existsSync(join(dir, 'initdb')))
})()

/** Why a test that needs its own server cannot have one here, or undefined when it can. */
export const noClusterReason = binDir === undefined ? 'no PostgreSQL server binaries under /usr/lib/postgresql' : undefined

// PostgreSQL refuses to run as root: CI runs the suite as root, so the server runs as postgres there.
const asRoot = process.getuid?.() === 0

/** Runs a server binary (initdb, pg_ctl, pg_basebackup…), as the postgres user when this process is root. */
export async function runServerBinary (program: string, args: string[]): Promise<void> {
  if (binDir === undefined) throw new Error(noClusterReason)
  const [command, commandArgs] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(binDir, program), ...args]] : [join(binDir, program), args]
  try {
    await execFileAsync(command, commandArgs, { encoding: 'utf8' })
  } catch (error) {
    const { stderr = '', stdout = '' } = error as { stderr?: string, stdout?: string }
    throw new Error(`${program} ${args.join(' ')} failed: ${stderr}${stdout}`)
  }
}

/** A temporary folder the server binaries may write to. */
export async function serverFolder (prefix: string): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), prefix))
  if (asRoot) chownSync(root, Number((await execFileAsync('id', ['-u', 'postgres'])).stdout.trim()), -1)
  return root
}

export interface PostgresCluster {
  url: string
  port: number
  dataDir: string
  /** Stops the server (-m fast: open sessions are cut, as in a failover or a restart). */
  stop: () => Promise<void>
  start: () => Promise<void>
  /** Stops it at once and removes its folder. */
  remove: () => Promise<void>
}

interface ClusterOptions { settings?: string[] }

/** initdb + start on a free port, fsync off: a throw-away server for one test. */
export async function startCluster (options: ClusterOptions = {}): Promise<PostgresCluster> {
  const root = await serverFolder('copydesk-cluster-')
  const dataDir = join(root, 'data')
  await runServerBinary('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--locale=C.UTF-8', '-E', 'UTF8', '-N'])
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
    start: async () => { await runServerBinary('pg_ctl', ['-D', dataDir, '-l', join(root, 'server.log'), '-w', '-t', '60', '-o', serverOptions, 'start']) },
    stop: async () => { await runServerBinary('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']) },
    remove: async () => {
      // SIGQUIT is PostgreSQL's immediate shutdown; sent straight to the postmaster, it needs no pg_ctl.
      const pidFile = join(dataDir, 'postmaster.pid')
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : 0
      if (pid > 0) {
        try { process.kill(pid, 'SIGQUIT') } catch { /* already gone */ }
        for (let waited = 0; waited < 10_000 && existsSync(`/proc/${pid}`); waited += 50) await new Promise((resolve) => setTimeout(resolve, 50))
      }
      rmSync(root, { recursive: true, force: true })
    }
  }
  await cluster.start()
  return cluster
}
