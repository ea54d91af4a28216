// Sections and tags: both are named, slugged terms that articles are filed under.
import { Type, type Static } from 'typebox'
import { Nullable, PageQuery, Paragraphs, Slug, Timestamp, Title, Uuid } from '../common-schemas.ts'

export type TaxonomyKind = 'section' | 'tag'

const sectionExample = { id: '019ab8a4-5555-7666-8777-988899990000', slug: 'politics', name: 'Politics', description: 'Government, elections and the people in power', createdAt: '2022-03-09T17:30:00.000Z', updatedAt: '2022-03-09T17:30:00.000Z' }
const tagExample = { id: '019ab8a4-6666-7777-8888-999900001111', slug: 'conscription', name: 'Conscription', description: null, createdAt: '2022-03-09T17:30:00.000Z', updatedAt: '2022-03-09T17:30:00.000Z' }

function termSchema (id: 'Section' | 'Tag', description: string, example: object) {
  return Type.Object({
    id: Uuid,
    slug: Slug,
    name: Type.String(),
    description: Nullable(Type.String()),
    createdAt: Timestamp,
    updatedAt: Timestamp
  }, { $id: id, title: id, description, examples: [example] })
}

export const SectionSchema = termSchema('Section', 'A primary section of the publication; every article runs in at most one', sectionExample)
export const TagSchema = termSchema('Tag', 'A tag; an article has any number', tagExample)
export type Term = Static<typeof SectionSchema>
export const SectionRef = Type.Unsafe<Term>({ $ref: 'Section#' })
export const TagRef = Type.Unsafe<Term>({ $ref: 'Tag#' })

/** How a term is embedded in an article. */
export const TermSummary = Type.Object({ id: Uuid, slug: Slug, name: Type.String() })

const writable = {
  name: Title(100, ['Politics', 'Ukraine', 'Conscription']),
  slug: Type.Optional(Slug),
  description: Type.Optional(Nullable(Paragraphs(1000)))
}
export const TermCreate = Type.Object(writable, { additionalProperties: false, title: 'TermCreate', examples: [{ name: 'Politics', description: 'Government, elections and the people in power' }] })
export type TermCreate = Static<typeof TermCreate>
export const TermPatch = Type.Partial(Type.Object(writable), { additionalProperties: false, minProperties: 1, title: 'TermPatch', examples: [{ name: 'World Politics' }] })
export type TermPatch = Static<typeof TermPatch>
export const TermListQuery = Type.Object({ ...PageQuery }, { additionalProperties: false })
