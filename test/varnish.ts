// A real Varnish for tests and benchmarks: Debian's varnish 7.1 with varnish-modules' xkey, running
// the VCL kept in the repository (src/cdn/varnish.vcl) with a given API as its backend. Installed
// with apt-get when missing (as root).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitFor } from './helper.ts'

export interface TapLike { teardown: (fn: () => unknown) => void }

export const VCL = new URL('../src/cdn/varnish.vcl', import.meta.url)

/** The VCL with the API's address as its backend (the repository's copy points at the compose service). */
function vclFor (port: number): string {
  const source = readFileSync(VCL, 'utf8')
  const vcl = source
    .replace(/\.host = "[^"]*";/, '.host = "127.0.0.1";')
    .replace(/\.port = "[^"]*";/, `.port = "${port}";`)
  if (!vcl.includes('.host = "127.0.0.1";') || !vcl.includes(`.port = "${port}";`)) {
    throw new Error('src/cdn/varnish.vcl has no backend .host/.port to point at the test app')
  }
  return vcl
}

// Debian installs varnishd in /usr/sbin, which a non-root PATH may lack.
const withSbin = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/usr/local/sbin` }

/** A folder Varnish's unprivileged user can read (varnishd started as root drops privileges). */
function scratchFolder (): string {
  const dir = mkdtempSync(join(tmpdir(), 'copydesk-varnish-'))
  chmodSync(dir, 0o755)
  return dir
}

/** Compiles the VCL; null when it compiles, else varnishd's complaint (or that it is missing). */
function compileProblem (): string | null {
  const dir = scratchFolder()
  try {
    writeFileSync(join(dir, 'copydesk.vcl'), vclFor(3000))
    const args = ['-C', '-n', join(dir, 'work'), '-f', join(dir, 'copydesk.vcl')]
    const compiled = spawnSync('varnishd', args, { encoding: 'utf8', env: withSbin })
    if (compiled.error !== undefined) return `varnishd not found (${compiled.error.message})`
    return compiled.status === 0 ? null : `varnishd -C failed: ${compiled.stderr.trim().slice(-500)}`
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Installs Debian's varnish and varnish-modules when they are missing; null when Varnish can run the VCL. */
export function ensureVarnish (): string | null {
  const before = compileProblem()
  if (before === null) return null
  if (process.getuid?.() !== 0) return `${before}; installing it needs root: apt-get install varnish varnish-modules`
  const aptGet = (...args: string[]): boolean => spawnSync('apt-get', args, {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, stdio: 'ignore', timeout: 300_000
  }).status === 0
  const install = (): boolean => aptGet('install', '-y', '-qq', 'varnish', 'varnish-modules')
  // A fresh machine may have no package lists yet.
  if (!install() && (!aptGet('update', '-qq') || !install())) {
    return `${before}; apt-get install varnish varnish-modules failed`
  }
  return compileProblem()
}

/** varnishd in the foreground on `port`, its backend the API on `appPort`; stopped in teardown. */
export async function startVarnish (t: TapLike, port: number, appPort: number): Promise<ChildProcess> {
  const dir = scratchFolder()
  writeFileSync(join(dir, 'copydesk.vcl'), vclFor(appPort))
  const args = ['-F', '-n', join(dir, 'work'), '-a', `127.0.0.1:${port}`, '-f', join(dir, 'copydesk.vcl'), '-s', 'malloc,32m', '-T', 'none']
  const varnishd = spawn('varnishd', args, { env: withSbin, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  varnishd.stdout.on('data', (chunk) => { output += String(chunk) })
  varnishd.stderr.on('data', (chunk) => { output += String(chunk) })
  const exited = once(varnishd, 'exit')
  t.teardown(async () => {
    if (varnishd.exitCode === null) {
      varnishd.kill('SIGTERM')
      await exited
    }
    rmSync(dir, { recursive: true, force: true })
  })
  const answers = async (): Promise<boolean> => {
    if (varnishd.exitCode !== null) throw new Error(`varnishd exited (${varnishd.exitCode}): ${output}`)
    const probe = fetch(`http://127.0.0.1:${port}/`, { method: 'PURGE', headers: { 'xkey-purge': 'nothing' } })
    return await probe.then(() => true, () => false)
  }
  if (!await waitFor(answers)) throw new Error(`varnishd did not start listening: ${output}`)
  return varnishd
}

