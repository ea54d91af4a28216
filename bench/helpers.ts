// What the benchmarks share: servers in processes of their own pinned to core 0, load generators
// pinned to core 1 (taskset), and what the server used (CPU time, memory) read from /proc.
import { execFileSync, fork, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, memoryOf } from '../test/server-process.ts'

export { memoryOf }

let pinnedAll = true

/** Pins a process (all its threads) to a core, where taskset exists; `pinned()` says whether every pin held. */
export function pin (pid: number | undefined, core: number): boolean {
  let done = false
  if (pid !== undefined) {
    try {
      execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' })
      done = true
    } catch { /* taskset missing or refused: reported by pinned() */ }
  }
  pinnedAll &&= done
  return done
}

export function pinned (): boolean {
  return pinnedAll
}

/** A server of bench/serve.ts (`bare`, `driver`, or the app through tsx), on core 0. */
export async function startBenchServer (args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess, url: string }> {
  const child = fork(join(import.meta.dirname, 'serve.ts'), args, { env: { ...process.env, ...env }, execArgv: ['--import', 'tsx'] })
  const [message] = await once(child, 'message') as [{ port: number }]
  pin(child.pid, 0)
  return { child, url: `http://127.0.0.1:${message.port}` }
}

/**
 * How `npm start` runs the server, built first when stale: its Node options, plus BENCH_SERVER_NODE_ARGS
 * (e.g. `--cpu-prof --cpu-prof-dir=DIR` to see where the server's time goes), and its environment
 * (MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_), which changes what image work leaves resident.
 */
export function builtServer (): { nodeOptions: string[], environment: Record<string, string>, server: string } {
  const root = join(import.meta.dirname, '..')
  const start = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(' ')
  const build = spawnSync(process.execPath, [join(root, 'src', 'launch.mjs'), '--build'], { stdio: 'inherit' })
  if (build.status !== 0) throw new Error('npm run build failed')
  return {
    nodeOptions: [...start.filter((word) => word.startsWith('--')), ...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean)],
    environment: Object.fromEntries(start.filter((word) => /^[A-Z_]+=/.test(word)).map((word) => word.split('=', 2) as [string, string])),
    server: join(root, 'dist', 'bundle', 'server.js')
  }
}

/**
 * Copydesk as users run it: the compiled server with the Node options of `npm start` (built first
 * when stale), on core 0, so its CPU and memory are what production sees.
 */
export async function startCopydesk (env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess, url: string }> {
  const { nodeOptions, environment, server } = builtServer()
  const port = await freePort()
  const child = spawn(process.execPath, [...nodeOptions, server], {
    env: { ...process.env, ...environment, LOG_LEVEL: 'silent', SEED_DEMO_CONTENT: 'false', READ_RATE_LIMIT: '0', PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'inherit']
  })
  const url = `http://127.0.0.1:${port}`
  for (const deadline = Date.now() + 120_000; ;) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}) before it was ready`)
    if (Date.now() > deadline) throw new Error('the server was not ready within 120 s')
    try {
      if ((await fetch(`${url}/ready`)).ok) break
    } catch { /* not listening yet */ }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  pin(child.pid, 0)
  return { child, url }
}

/** Requests a second (and p99 latency) from autocannon in its own process on core 1; any non-2xx fails the run. */
export async function measure (url: string, { connections, seconds, pathsFile }: { connections: number, seconds: number, pathsFile?: string }): Promise<{ rps: number, p99: number }> {
  const load = fork(join(import.meta.dirname, 'load.ts'), [url, String(connections), String(seconds), ...(pathsFile === undefined ? [] : [pathsFile])], { execArgv: ['--import', 'tsx'] })
  pin(load.pid, 1)
  const [result] = await Promise.race([
    once(load, 'message') as Promise<[{ rps: number, p99: number, non2xx: number, errors: number }]>,
    once(load, 'exit').then(([code]) => { throw new Error(`the load generator exited (${String(code)}) without a result`) })
  ])
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx responses, ${result.errors} errors`)
  return { rps: result.rps, p99: result.p99 }
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
export function cpuSecondsOf (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  // utime and stime are fields 14 and 15 of stat, in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** The value below which a share p of the sorted values lie. */
export function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN
}

/** The machine's load average over 1, 5 and 15 minutes: other work on it moves the figures. */
export function loadAverage (): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
}
