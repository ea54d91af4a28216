// `npm run bench:startup`: starts the compiled server the way `npm start` does (its Node options,
// dist/bundle/server.js) on a migrated copy of the demo database, several times, and reports the time from
// spawn to the first 200 from /ready, the CPU it used by then, and its resident memory (VmRSS/VmHWM)
// once idle. BENCH_STARTS (default 5) runs; BENCH_IDLE_MS (default 5000) of idle before memory is read.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../test/server-process.ts'

const starts = Number(process.env.BENCH_STARTS ?? 5)
const idleMs = Number(process.env.BENCH_IDLE_MS ?? 5000)
const root = join(import.meta.dirname, '..')
const dir = mkdtempSync(join(tmpdir(), 'copydesk-startup-'))
const startScript = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start
const nodeOptions = startScript.split(' ').filter((word) => word.startsWith('--'))
// Its environment too (MALLOC_ARENA_MAX=2), as npm start and the Docker image set it.
const startEnvironment = Object.fromEntries(startScript.split(' ').filter((word) => /^[A-Z_]+=/.test(word)).map((word) => word.split('=', 2)))

function status (pid: number): { cpuSeconds: number, rssMb: number, peakMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  const ticks = Number(stat[11]) + Number(stat[12]) // utime + stime, in clock ticks (100 per second)
  const text = readFileSync(`/proc/${pid}/status`, 'utf8')
  const mb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)?.[1] ?? 0) / 1024
  return { cpuSeconds: ticks / 100, rssMb: mb('VmRSS'), peakMb: mb('VmHWM') }
}

async function start (databaseUrl: string, port: number): Promise<{ child: ChildProcess, readyMs: number }> {
  const startedAt = performance.now()
  const child = spawn(process.execPath, [...nodeOptions, join(root, 'dist', 'bundle', 'server.js')], {
    env: { ...process.env, ...startEnvironment, DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', SEED_DEMO_CONTENT: 'true', IMAGE_DIRECTORY: join(dir, 'images') },
    stdio: ['ignore', 'ignore', 'inherit']
  })
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode})`)
    try {
      if ((await fetch(`http://127.0.0.1:${port}/ready`)).ok) return { child, readyMs: performance.now() - startedAt }
    } catch { /* not listening yet */ }
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

try {
  const build = spawnSync(process.execPath, [join(root, 'src', 'launch.mjs'), '--build'], { stdio: 'inherit' })
  if (build.status !== 0) throw new Error('npm run build failed')
  // One start migrates and seeds; the measured ones then start on a migrated database with the same
  // settings (the port is part of the read model's fingerprint, so it stays the same too).
  const databaseUrl = `file:${join(dir, 'copydesk.db')}`
  const port = await freePort()
  const first = await start(databaseUrl, port)
  first.child.kill('SIGTERM')
  await once(first.child, 'exit')
  console.log(`Node ${process.version}, ${[...Object.entries(startEnvironment).map(([name, value]) => `${name}=${value}`), 'node', ...nodeOptions, 'dist/bundle/server.js'].join(' ')}, migrated demo database\n`)
  console.log('| start | to /ready s | CPU s by then | RSS MB after idle | peak MB |')
  console.log('|---|---|---|---|---|')
  for (let run = 1; run <= starts; run++) {
    const { child, readyMs } = await start(databaseUrl, port)
    const { cpuSeconds } = status(child.pid as number)
    await new Promise((resolve) => setTimeout(resolve, idleMs))
    const { rssMb, peakMb } = status(child.pid as number)
    console.log(`| ${run} | ${(readyMs / 1000).toFixed(2)} | ${cpuSeconds.toFixed(2)} | ${rssMb.toFixed(0)} | ${peakMb.toFixed(0)} |`)
    child.kill('SIGTERM')
    await once(child, 'exit')
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
