// The public read model of sections and tags: each term's exact public JSON, rewritten in the
// transaction of every change to it. Keyless reads of a term (by id or slug) and of the lists by name
// answer from these documents (src/read-model/reads.ts).
import type { Prisma } from '../db/client.ts'
import type { TaxonomyKind, Term } from '../taxonomy/schemas.ts'
import { etagFor } from '../plugins/http-cache.ts'
import { serializeSection, serializeTag } from './serializers.ts'

type Transaction = Prisma.TransactionClient

export interface StoredTerm { kind: TaxonomyKind, id: string, slug: string, name: string, document: string, etag: string }

export function renderTerm (kind: TaxonomyKind, term: Term): StoredTerm {
  const document = (kind === 'section' ? serializeSection : serializeTag)(term)
  return { kind, id: term.id, slug: term.slug, name: term.name, document, etag: etagFor(document, undefined) }
}

async function readTerm (tx: Transaction, kind: TaxonomyKind, id: string): Promise<Term | null> {
  return (kind === 'section' ? await tx.section.findUnique({ where: { id } }) : await tx.tag.findUnique({ where: { id } })) as unknown as Term | null
}

/** Brings a term's stored document up to date (a deleted term's goes). */
export async function refreshPublicTerm (tx: Transaction, kind: TaxonomyKind, id: string): Promise<void> {
  const term = await readTerm(tx, kind, id)
  if (term === null) {
    await tx.publicTerm.deleteMany({ where: { kind, id } })
    return
  }
  const stored = renderTerm(kind, term)
  // A document still holding this slug for another term (written before that term's last change
  // reached the read model, e.g. by an older release during a rolling deploy) gives way.
  await tx.publicTerm.deleteMany({ where: { kind, slug: term.slug, id: { not: id } } })
  await tx.publicTerm.upsert({ where: { kind_id: { kind, id } }, create: stored, update: stored })
}

/** Every term rendered again, and documents of terms since deleted dropped (a rebuild). */
export async function rebuildPublicTerms (tx: Transaction): Promise<number> {
  let count = 0
  for (const kind of ['section', 'tag'] as const) {
    const terms = (kind === 'section' ? await tx.section.findMany() : await tx.tag.findMany()) as unknown as Term[]
    await tx.publicTerm.deleteMany({ where: { kind } })
    await tx.publicTerm.createMany({ data: terms.map((term) => renderTerm(kind, term)) })
    count += terms.length
  }
  return count
}
