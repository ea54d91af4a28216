// API keys: random secrets shown once, stored as SHA-256 hashes, revoked rather than deleted.
import { createHash, randomBytes } from 'node:crypto'
import { Prisma, type Database } from '../db/client.ts'
import { errors, withFieldErrors, type CatalogueError } from '../errors.ts'
import { pageResult, type PageResult } from '../common-schemas.ts'
import { commitChange } from '../changes/index.ts'
import type { Actor, Role } from './roles.ts'
import type { ApiKey, ApiKeyCreate, KeyListQuery } from './schemas.ts'

/**
 * Generated keys are "cdk_" and 43 base64url characters: 256 random bits, so a plain hash is
 * enough (no salt, no KDF). A bootstrap key chosen by an operator only has to look like a token.
 */
export const KEY_PATTERN = /^[A-Za-z0-9_-]{32,200}$/
/** The row the first key takes, so instances starting together cannot both create one. */
const FIRST_KEY_ID = '00000000-0000-7000-8000-000000000001'
/** How stale lastUsedAt may be: it is written at most this often per key, not on every request. */
const LAST_USED_RESOLUTION_MS = 60_000

export const hashOf = (secret: string): string => createHash('sha256').update(secret).digest('hex')
const newSecret = (): string => `cdk_${randomBytes(32).toString('base64url')}`
const prefixOf = (secret: string): string => secret.slice(0, 10)

const keySelect = { id: true, name: true, role: true, prefix: true, authorId: true, createdAt: true, lastUsedAt: true, revokedAt: true } as const

type KeyRecord = Prisma.ApiKeyGetPayload<{ select: typeof keySelect }>
const toKey = (record: KeyRecord): ApiKey => ({ ...record, role: record.role as Role }) as unknown as ApiKey

/**
 * The actor a secret belongs to, or null when it is unknown or revoked. Secrets are never compared
 * with each other: the lookup is by SHA-256, so its timing says nothing about how much of a guess
 * was right.
 */
export async function authenticate (db: Database, secret: string): Promise<Actor | null> {
  if (!KEY_PATTERN.test(secret)) return null
  const hash = hashOf(secret)
  const key = await db.apiKey.findUnique({ where: { secretHash: hash }, select: { id: true, name: true, role: true, authorId: true, revokedAt: true, lastUsedAt: true } })
  if (key === null || key.revokedAt !== null) return null
  const now = new Date()
  if (key.lastUsedAt === null || now.getTime() - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.apiKey.updateMany({ where: { id: key.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now.getTime() - LAST_USED_RESOLUTION_MS) } }] }, data: { lastUsedAt: now } })
  }
  return { keyId: key.id, keyName: key.name, role: key.role as Role, authorId: key.authorId }
}

async function assertAuthorForRole (tx: Prisma.TransactionClient, role: Role, authorId: string | null | undefined): Promise<void> {
  if (role === 'writer' && (authorId === undefined || authorId === null)) {
    throw withFieldErrors(errors.validationFailed('A writer\'s key must name the author whose drafts it edits') as CatalogueError, [{ in: 'body', pointer: '/authorId', message: 'is required for the writer role' }])
  }
  if (authorId !== undefined && authorId !== null && await tx.author.count({ where: { id: authorId } }) === 0) {
    throw withFieldErrors(errors.invalidReference(`body/authorId no author has id ${authorId}`) as CatalogueError, [{ in: 'body', pointer: '/authorId', message: `no author has id ${authorId}` }])
  }
}

/** Creates a key; the secret is in the result and nowhere else, ever. */
export async function createOne (db: Database, input: ApiKeyCreate, actor: Actor): Promise<ApiKey & { secret: string }> {
  const secret = newSecret()
  return await db.$transaction(async (tx) => {
    await assertAuthorForRole(tx, input.role, input.authorId)
    const created = await tx.apiKey.create({
      data: { name: input.name, role: input.role, authorId: input.authorId ?? null, secretHash: hashOf(secret), prefix: prefixOf(secret) },
      select: keySelect
    })
    await commitChange(tx, { actor, objectType: 'key', objectId: created.id, action: 'key.created' })
    return { ...toKey(created), secret }
  })
}

export async function readMany (db: Database, query: KeyListQuery): Promise<PageResult<ApiKey>> {
  const where: Prisma.ApiKeyWhereInput = query.revoked === undefined ? {} : { revokedAt: query.revoked ? { not: null } : null }
  const [records, total] = await db.$transaction([
    db.apiKey.findMany({ where, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], skip: (query.page - 1) * query.limit, take: query.limit, select: keySelect }),
    db.apiKey.count({ where })
  ])
  return pageResult(records.map(toKey), total, query.page, query.limit)
}

export async function readOne (db: Database, id: string): Promise<ApiKey> {
  const record = await db.apiKey.findUnique({ where: { id }, select: keySelect })
  if (record === null) throw errors.keyNotFound(`id ${id}`)
  return toKey(record)
}

/**
 * Revokes a key: from the next request on, it is refused. Revoking twice is harmless. The last
 * active admin key cannot be revoked: nobody could make or revoke keys any more.
 */
export async function revokeOne (db: Database, id: string, actor: Actor): Promise<void> {
  await db.$transaction(async (tx) => {
    const key = await tx.apiKey.findUnique({ where: { id }, select: { role: true, revokedAt: true } })
    if (key === null) throw errors.keyNotFound(`id ${id}`)
    if (key.revokedAt !== null) return
    await tx.apiKey.update({ where: { id }, data: { revokedAt: new Date() } })
    await commitChange(tx, { actor, objectType: 'key', objectId: id, action: 'key.revoked' })
    // Counted after commitChange on purpose: it holds the change sequence's row until commit, so
    // writes pass it one at a time, and this count (a new statement) sees every revocation that
    // committed before. Two admins revoking the last two admin keys at once: the second finds none.
    if (key.role === 'admin') await assertAnAdminKeyRemains(tx, id)
  })
}

async function assertAnAdminKeyRemains (tx: Prisma.TransactionClient, id: string): Promise<void> {
  if (await tx.apiKey.count({ where: { role: 'admin', revokedAt: null } }) > 0) return
  throw errors.lastAdminKey(`Key ${id} is the last active admin key: create another admin key before revoking it`)
}

const startUp: Actor = { keyId: null, keyName: 'server start-up', role: 'system', authorId: null }

/**
 * COPYDESK_BOOTSTRAP_KEY: makes sure an active admin key with exactly this secret exists, as the
 * README promises. The operator who sets the server's environment outranks any key, so a key with
 * this secret that was revoked (or is not admin) is restored at start; the returned warning says so.
 * Retiring a bootstrap key means changing or removing the setting.
 */
export async function ensureBootstrapKey (db: Database, secret: string): Promise<string | null> {
  const hash = hashOf(secret)
  return await db.$transaction(async (tx) => {
    const existing = await tx.apiKey.findUnique({ where: { secretHash: hash }, select: { id: true, role: true, revokedAt: true } })
    if (existing === null) {
      const created = await tx.apiKey.create({ data: { name: 'bootstrap (COPYDESK_BOOTSTRAP_KEY)', role: 'admin', secretHash: hash, prefix: prefixOf(secret) }, select: { id: true } })
      await commitChange(tx, { actor: startUp, objectType: 'key', objectId: created.id, action: 'key.created' })
      return null
    }
    if (existing.revokedAt !== null) {
      await tx.apiKey.update({ where: { id: existing.id }, data: { role: 'admin', revokedAt: null } })
      await commitChange(tx, { actor: startUp, objectType: 'key', objectId: existing.id, action: 'key.restored' })
      return `COPYDESK_BOOTSTRAP_KEY names key ${existing.id}, which was revoked: restored it as an admin key. To retire that key, change or remove COPYDESK_BOOTSTRAP_KEY, then revoke it.`
    }
    if (existing.role !== 'admin') {
      await tx.apiKey.update({ where: { id: existing.id }, data: { role: 'admin' } })
      await commitChange(tx, { actor: startUp, objectType: 'key', objectId: existing.id, action: 'key.promoted' })
    }
    return null
  })
}

/** On an empty database, creates the first admin key and returns its secret (to print once); else null. */
export async function ensureFirstKey (db: Database): Promise<string | null> {
  if (await db.apiKey.count() > 0) return null
  const secret = newSecret()
  try {
    await db.$transaction(async (tx) => {
      await tx.apiKey.create({ data: { id: FIRST_KEY_ID, name: 'first admin key', role: 'admin', secretHash: hashOf(secret), prefix: prefixOf(secret) } })
      await commitChange(tx, { actor: startUp, objectType: 'key', objectId: FIRST_KEY_ID, action: 'key.created' })
    })
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return null // another instance created it at the same moment
    throw error
  }
  return secret
}
