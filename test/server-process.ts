// The real server as `npm start` runs it (compiled, through src/launch.mjs), for tests that need a
// process: signals, exit codes, real sockets.
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

/** What npm install does: compile once, before servers start (each would otherwise build a stale dist/ in parallel). */
export function buildOnce (): void {
  const build = spawnSync(process.execPath, ['src/launch.mjs', '--build'], { stdio: 'inherit' })
  if (build.status !== 0) throw new Error('npm run build failed')
}

export function startServer (env: Record<string, string>) {
  const child = spawn(process.execPath, ['src/launch.mjs'], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk) => { output += String(chunk) })
  child.stderr.on('data', (chunk) => { output += String(chunk) })
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>
  return { child, exited, output: () => output }
}

export async function waitForHealth (url: string, deadline = Date.now() + 90_000): Promise<void> {
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/health`)).ok) return
    } catch { /* not listening yet */ }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('server did not become healthy')
}

/** Resident memory now and at its peak (VmRSS, VmHWM), in MB, of a process on this machine. */
export function memoryOf (pid: number): { rssMb: number, peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN)
  return { rssMb: Math.round(kb('VmRSS') / 1024), peakMb: Math.round(kb('VmHWM') / 1024) }
}
