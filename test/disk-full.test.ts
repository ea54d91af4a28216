// The disk under an SQLite database fills up: writes fail with a clear 507 and change nothing,
// reads go on, the database is not corrupted, and writes work again once space is freed. A real
// full disk: a small tmpfs (needs root and permission to mount, as in CI; skipped otherwise).
import { test } from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync, statfsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { anonymous, buildTestApp, json, testProvider } from './helper.ts'

function mountSmallDisk (): { dir: string, unmount: () => void } | string {
  if (process.getuid?.() !== 0) return 'needs root to mount a small filesystem'
  const dir = mkdtempSync(join(tmpdir(), 'copydesk-small-disk-'))
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', dir])
  if (mounted.status !== 0) {
    rmSync(dir, { recursive: true, force: true })
    return `cannot mount a tmpfs here: ${mounted.stderr.toString().trim()}`
  }
  return { dir, unmount: () => { spawnSync('umount', ['-l', dir]); rmSync(dir, { recursive: true, force: true }) } }
}

const disk = testProvider === 'sqlite' ? mountSmallDisk() : 'SQLite only'

test('SQLite on a full disk', { skip: typeof disk === 'string' ? disk : false }, async (t) => {
  if (typeof disk === 'string') return
  t.teardown(disk.unmount)
  const databasePath = join(disk.dir, 'copydesk.db')
  const app = await buildTestApp(t, { databaseUrl: `file:${databasePath}`, imageDirectory: join(disk.dir, 'images') })
  const standing = json(await app.inject({ method: 'POST', url: '/articles', payload: { headline: 'Standing story', status: 'published', body: [{ type: 'paragraph', text: 'Here before the disk filled.' }] } }))

  // Leave about 1 MB: what the database needs to grow past it is not there.
  const ballast = join(disk.dir, 'ballast')
  const { bavail, bsize } = statfsSync(disk.dir)
  writeFileSync(ballast, Buffer.alloc(Math.max(0, bavail * bsize - 1024 * 1024)))

  const text = 'A long paragraph that fills the page. '.repeat(200)
  let refused: LightMyRequestResponse | undefined
  let acknowledged = 0
  for (let i = 0; i < 400 && refused === undefined; i++) {
    const response = await app.inject({ method: 'POST', url: '/articles', payload: { headline: `Filler ${i}`, body: Array.from({ length: 10 }, () => ({ type: 'paragraph', text })) } })
    if (response.statusCode === 201) acknowledged++
    else refused = response
  }
  if (refused === undefined) throw new Error('the disk never filled')
  t.ok(acknowledged > 0, `${acknowledged} writes went through before the disk was full`)
  t.equal(refused.statusCode, 507, 'a write on a full disk is 507 Insufficient Storage')
  t.match(json(refused), { code: 'STORAGE_FULL', status: 507 }, 'with a problem that says the storage is full')
  t.match(String(refused.headers['content-type']), /^application\/problem\+json/)

  const patched = await app.inject({ method: 'PATCH', url: `/articles/${standing.id}`, headers: { 'if-match': `"${standing.version}"` }, payload: { headline: 'Changed on a full disk', body: Array.from({ length: 20 }, () => ({ type: 'paragraph', text })) } })
  t.equal(patched.statusCode, 507, 'an edit on a full disk is 507 too')
  const read = await app.inject({ url: `/articles/${standing.id}` })
  t.equal(read.statusCode, 200, 'staff reads go on')
  t.equal(json(read).headline, 'Standing story', 'and the refused edit changed nothing')
  t.equal((await app.inject({ url: `/articles/slug/${standing.slug}`, headers: anonymous })).statusCode, 200, 'public reads go on')
  t.equal((await app.inject({ url: '/articles?limit=5', headers: anonymous })).statusCode, 200, 'lists go on')

  rmSync(ballast)
  const after = await app.inject({ method: 'POST', url: '/articles', payload: { headline: 'After the space was freed', body: [{ type: 'paragraph', text: 'Back.' }] } })
  t.equal(after.statusCode, 201, 'writes work again once space is freed, without a restart')
  t.equal((await app.inject({ url: `/articles/${json(after).id}` })).statusCode, 200)

  await app.close()
  const check = new BetterSqlite3(databasePath, { readonly: true })
  t.same(check.pragma('integrity_check'), [{ integrity_check: 'ok' }], 'integrity_check finds nothing wrong')
  t.equal((check.prepare('SELECT count(*) AS n FROM "Article"').get() as { n: number }).n, acknowledged + 2, 'every acknowledged write is there, nothing else')
  check.close()
})
