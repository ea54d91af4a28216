// `npm run bench:startup`: starts the compiled server the way `npm start` does (its Node options,
// dist/bundle/server.js) on a migrated copy of the demo database, several times, and reports the time from
// spawn to the first 200 from /ready, the CPU it used by then, and its resident memory (VmRSS/VmHWM)
// once idle, twice: after BENCH_IDLE_MS (default 5000), and settled, BENCH_SETTLED_MS (default 15000) after
// /ready, once V8's memory reducer has collected what starting left (it runs about 8 s after start).
// BENCH_STARTS (default 5) runs.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../test/server-process.ts'
import { builtServer, cpuSecondsOf, memoryOf } from './helpers.ts'

const starts = Number(process.env.BENCH_STARTS ?? 5)
const idleMs = Number(process.env.BENCH_IDLE_MS ?? 5000)
const settledMs = Math.max(idleMs, Number(process.env.BENCH_SETTLED_MS ?? 15_000))
const dir = mkdtempSync(join(tmpdir(), 'copydesk-startup-'))
const { nodeOptions, environment: startEnvironment, server } = builtServer()

async function start (databaseUrl: string, port: number): Promise<{ child: ChildProcess, readyMs: number }> {
  const startedAt = performance.now()
  const child = spawn(process.execPath, [...nodeOptions, server], {
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
  // One start migrates and seeds; the measured ones then start on a migrated database with the same
  // settings (the port is part of the read model's fingerprint, so it stays the same too).
  const databaseUrl = `file:${join(dir, 'copydesk.db')}`
  const port = await freePort()
  const first = await start(databaseUrl, port)
  first.child.kill('SIGTERM')
  await once(first.child, 'exit')
  console.log(`Node ${process.version}, ${[...Object.entries(startEnvironment).map(([name, value]) => `${name}=${value}`), 'node', ...nodeOptions, 'dist/bundle/server.js'].join(' ')}, migrated demo database\n`)
  console.log(`| start | to /ready s | CPU s by then | RSS MB after ${idleMs / 1000} s idle | settled (${settledMs / 1000} s) | peak MB |`)
  console.log('|---|---|---|---|---|---|')
  for (let run = 1; run <= starts; run++) {
    const { child, readyMs } = await start(databaseUrl, port)
    const cpuSeconds = cpuSecondsOf(child.pid as number)
    await new Promise((resolve) => setTimeout(resolve, idleMs))
    const { rssMb } = memoryOf(child.pid as number)
    await new Promise((resolve) => setTimeout(resolve, settledMs - idleMs))
    const { rssMb: settledMb, peakMb } = memoryOf(child.pid as number)
    console.log(`| ${run} | ${(readyMs / 1000).toFixed(2)} | ${cpuSeconds.toFixed(2)} | ${rssMb} | ${settledMb} | ${peakMb} |`)
    child.kill('SIGTERM')
    await once(child, 'exit')
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
