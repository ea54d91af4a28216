import { Type, type Static } from 'typebox'
import { HttpUrl, Line, Nullable, PageQuery, Slug, StringEnum, Timestamp, Title, Uuid } from '../common-schemas.ts'
import { ImageRef } from '../images/schemas.ts'
import { AuthorSummaryRef } from '../authors/schemas.ts'
import { TermSummary } from '../taxonomy/schemas.ts'
import { Body } from './body.ts'
import { preflightRuleNames } from './desk.ts'
import { articleExample, articleSummaryExample, bodyExample, exampleIds } from '../examples.ts'

export const ArticleStatus = StringEnum(['draft', 'scheduled', 'published', 'archived', 'killed'], {
  description: 'draft: not public; scheduled: goes live by itself at publishedAt; published: live (unless under embargo); archived: kept, no longer listed; ' +
    'killed: taken down everywhere, 410 Gone to the public (POST /articles/{id}/kill; only an admin brings it back, as a draft, with POST /articles/{id}/unkill). ' +
    'Allowed changes: draft → scheduled, published, archived; scheduled → draft, published; published → draft (unpublish), archived; archived → draft, published.'
})
export type ArticleStatus = Static<typeof ArticleStatus>

export const BylineRole = Line(60, { minLength: 1, pattern: '^[a-z][a-z -]*$', description: 'What the author did, lowercase', examples: ['reporter', 'photos', 'additional reporting', 'editor'] })


const writableFields = {
  slug: Slug,
  headline: Title(300, ['Contra Putin, Russian Govt Admits It Sent Conscripts Into Ukraine']),
  dek: Nullable(Line(600, { description: 'The standfirst under the headline' })),
  kicker: Nullable(Line(80, { description: 'The label above the headline', examples: ['Ukraine'] })),
  body: Body,
  leadImageId: Nullable(Uuid),
  sectionId: Nullable(Type.String({ format: 'uuid', description: 'The primary section it runs in' })),
  tagIds: Type.Array(Uuid, { maxItems: 50, uniqueItems: true, description: 'Tags, in display order' }),
  bylines: Type.Array(Type.Object({
    authorId: Uuid,
    role: Type.Optional(BylineRole)
  }, { additionalProperties: false }), { maxItems: 50, description: 'Credited authors in display order; role defaults to "reporter"' }),
  status: ArticleStatus,
  publishedAt: Nullable(Type.String({ format: 'date-time', description: 'Set on first publication when omitted; may be back-dated. For a scheduled article, the future time it goes live.' })),
  metaTitle: Nullable(Line(160, { description: 'Title for search engines, when it differs from the headline' })),
  metaDescription: Nullable(Line(320)),
  canonicalUrl: Nullable(HttpUrl())
}

export const ArticleCreate = Type.Object({
  headline: writableFields.headline,
  slug: Type.Optional(writableFields.slug),
  dek: Type.Optional(writableFields.dek),
  kicker: Type.Optional(writableFields.kicker),
  body: Type.Optional(writableFields.body),
  leadImageId: Type.Optional(writableFields.leadImageId),
  sectionId: Type.Optional(writableFields.sectionId),
  tagIds: Type.Optional(writableFields.tagIds),
  bylines: Type.Optional(writableFields.bylines),
  status: Type.Optional(writableFields.status),
  publishedAt: Type.Optional(writableFields.publishedAt),
  metaTitle: Type.Optional(writableFields.metaTitle),
  metaDescription: Type.Optional(writableFields.metaDescription),
  canonicalUrl: Type.Optional(writableFields.canonicalUrl)
}, {
  additionalProperties: false,
  title: 'ArticleCreate',
  description: 'A new article. The slug is made from the headline when omitted; status defaults to draft.',
  examples: [{ headline: 'Contra Putin, Russian Govt Admits It Sent Conscripts Into Ukraine', kicker: 'Ukraine', body: bodyExample, leadImageId: exampleIds.image, bylines: [{ authorId: exampleIds.author, role: 'reporter' }] }]
})
export type ArticleCreate = Static<typeof ArticleCreate>

export const ArticlePatch = Type.Partial(ArticleCreate, {
  additionalProperties: false,
  minProperties: 1,
  title: 'ArticlePatch',
  description: 'The fields to change; null clears an optional field.',
  examples: [{ status: 'published' }, { headline: 'Russia Admits Conscripts Were Sent Into Ukraine', slug: 'russia-admits-conscripts-sent-into-ukraine' }]
})
export type ArticlePatch = Static<typeof ArticlePatch>

/** PUT /articles/{id}/pending: the article's editable fields, whole; status and publishedAt stay the live version's. */
export const PendingRevisionReplace = Type.Omit(ArticleCreate, ['status', 'publishedAt'], {
  additionalProperties: false,
  title: 'PendingRevisionReplace',
  description: 'The whole content the live version is to take: optional fields left out are cleared, the slug is kept unless given (a new one redirects from the old once published).',
  examples: [{ headline: 'Contra Putin, Russian Govt Admits It Sent Conscripts Into Ukraine', kicker: 'Ukraine', body: bodyExample, leadImageId: exampleIds.image, bylines: [{ authorId: exampleIds.author, role: 'reporter' }] }]
})

/** PATCH /articles/{id}/pending: the fields to change, starting from the live content when there is no pending revision yet. */
export const PendingRevisionPatch = Type.Partial(PendingRevisionReplace, {
  additionalProperties: false,
  minProperties: 1,
  title: 'PendingRevisionPatch',
  description: 'The fields to change in the pending revision (started from the live content when there is none); null clears an optional field.',
  examples: [{ headline: 'Russia Admits Conscripts Were Sent Into Ukraine' }]
})
export type PendingInput = Static<typeof PendingRevisionPatch>

const PendingContentSchema = Type.Required(PendingRevisionReplace, { additionalProperties: false, title: 'PendingRevisionContent', description: 'The editable fields the live version takes when the pending revision is published' })
export type PendingContent = Static<typeof PendingContentSchema>

const KeyHolder = Type.Object({ keyId: Nullable(Uuid), name: Type.String() })

export const PreflightFinding = Type.Object({
  rule: Type.String({ description: `One of ${preflightRuleNames.join(', ')}` }),
  message: Type.String(),
  pointer: Type.String({ description: 'Where in the article (JSON Pointer into its representation)' })
}, { title: 'PreflightFinding' })

export const PendingRevisionState = Type.Object({
  articleId: Uuid,
  liveVersion: Type.Integer({ minimum: 1, description: 'The live article\'s version (its ETag is that number)' }),
  pending: Nullable(Type.Object({
    version: Type.Integer({ minimum: 1, description: 'Counts the pending revision\'s edits; its ETag is "pending-<version>"' }),
    baseVersion: Type.Integer({ minimum: 1, description: 'The live version it was last written against: when liveVersion has moved on, publishing is refused (409 PENDING_REVISION_OUTDATED) until it is written again' }),
    content: PendingContentSchema,
    signoffs: Type.Array(Type.Object({ kind: Type.String(), signedBy: KeyHolder, createdAt: Timestamp }), { description: 'Sign-offs given to this version of the pending revision; an edit clears them' }),
    missingSignoffs: Type.Array(Type.String(), { description: 'Kinds REQUIRED_SIGNOFFS asks for that it does not have: publishing it answers 409 until it has them' }),
    preflight: Type.Object({
      publishable: Type.Boolean({ description: 'True when publishing it now would pass the gate: no preflight error, no missing sign-off, and the live version has not moved on' }),
      errors: Type.Array(PreflightFinding, { description: 'Preflight findings on its content that block publishing it (409 PUBLICATION_BLOCKED)' }),
      warnings: Type.Array(PreflightFinding, { description: 'Findings worth a look that do not block anything' })
    }, { description: 'The preflight rules of GET /articles/{id}/preflight, run on the pending content' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    updatedBy: KeyHolder
  }, { description: 'null when the article has no pending revision' }))
}, {
  title: 'PendingRevisionState',
  examples: [{
    articleId: exampleIds.article,
    liveVersion: 3,
    pending: {
      version: 2,
      baseVersion: 3,
      content: { headline: 'Russia Admits Conscripts Were Sent Into Ukraine', slug: 'contra-putin-russian-govt-admits-it-sent-conscripts-into-ukraine', dek: null, kicker: 'Ukraine', body: bodyExample, leadImageId: exampleIds.image, sectionId: null, tagIds: [], bylines: [{ authorId: exampleIds.author, role: 'reporter' }], metaTitle: null, metaDescription: null, canonicalUrl: null },
      signoffs: [{ kind: 'copy', signedBy: { keyId: '019ab8a4-7777-7888-8999-aaaabbbbcccc', name: 'Morgan (night desk)' }, createdAt: '2026-11-25T06:00:00.000Z' }],
      missingSignoffs: ['legal'],
      preflight: { publishable: false, errors: [], warnings: [{ rule: 'dek-length', pointer: '/dek', message: 'the dek is missing (at least 20 characters)' }] },
      createdAt: '2026-11-25T05:50:00.000Z',
      updatedAt: '2026-11-25T05:58:00.000Z',
      updatedBy: { keyId: '019ab8a4-7777-7888-8999-aaaabbbbcccc', name: 'Morgan (night desk)' }
    }
  }]
})
export type PendingRevisionState = Static<typeof PendingRevisionState>

export const Byline = Type.Object({
  position: Type.Integer({ minimum: 0 }),
  role: Type.String(),
  author: AuthorSummaryRef
}, { title: 'Byline' })

const summaryFields = {
  id: Uuid,
  slug: Slug,
  headline: Type.String(),
  dek: Nullable(Type.String()),
  kicker: Nullable(Type.String()),
  status: ArticleStatus,
  publishedAt: Nullable(Timestamp),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  version: Type.Integer({ minimum: 1, description: 'Increments on every change; also sent as the ETag' }),
  leadImage: Nullable(ImageRef),
  section: Nullable(TermSummary),
  tags: Type.Array(TermSummary),
  bylines: Type.Array(Byline),
  readingTimeMinutes: Type.Integer({ minimum: 0 }),
  embargo: Nullable(Type.Object({
    until: Timestamp,
    note: Nullable(Type.String())
  }, { title: 'Embargo', description: 'While set, nothing public shows the article or its images, whatever its status; it lifts by itself at `until` (PUT /articles/{id}/embargo sets it)' }))
}

export const ArticleSummarySchema = Type.Object(summaryFields, {
  $id: 'ArticleSummary',
  title: 'ArticleSummary',
  description: 'An article as lists show it: no body',
  examples: [articleSummaryExample]
})
export type ArticleSummary = Static<typeof ArticleSummarySchema>
export const ArticleSummaryRef = Type.Unsafe<ArticleSummary>({ $ref: 'ArticleSummary#' })

export const CorrectionSchema = Type.Object({
  id: Uuid,
  kind: StringEnum(['correction', 'update']),
  text: Type.String(),
  createdAt: Timestamp
}, { $id: 'Correction', title: 'Correction', description: 'A dated correction or update note, shown with the article', examples: [{ id: '019ab8a4-1111-7222-8333-944455556666', kind: 'correction', text: 'An earlier version of this story misstated the size of the company.', createdAt: '2022-03-10T09:00:00.000Z' }] })
export type Correction = Static<typeof CorrectionSchema>

export const CorrectionCreate = Type.Object({
  kind: StringEnum(['correction', 'update'], { default: 'correction' }),
  text: Title(2000, ['An earlier version of this story misstated the size of the company.'])
}, { additionalProperties: false, title: 'CorrectionCreate', examples: [{ kind: 'correction', text: 'An earlier version of this story misstated the size of the company.' }] })
export type CorrectionCreate = Static<typeof CorrectionCreate>

export const ArticleSchema = Type.Object({
  ...summaryFields,
  metaTitle: Nullable(Type.String()),
  metaDescription: Nullable(Type.String()),
  canonicalUrl: Nullable(Type.String()),
  body: Body,
  bodyHtml: Type.String({ description: 'The body as sanitized HTML' }),
  bodyText: Type.String({ description: 'The body as plain text' }),
  wordCount: Type.Integer({ minimum: 0 }),
  corrections: Type.Array(Type.Unsafe<Correction>({ $ref: 'Correction#' }), { description: 'Corrections and updates, oldest first' }),
  kill: Nullable(Type.Object({
    reason: Type.String(),
    killedAt: Timestamp
  }, { title: 'Kill', description: 'Why and when the article was killed, while its status is killed (staff only: the public gets 410 Gone)' })),
  jsonLd: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'schema.org NewsArticle (headline, image, datePublished, dateModified, author, publisher) as JSON-LD, ready to embed in the page' }))
}, {
  $id: 'Article',
  title: 'Article',
  description: 'A whole article with its authors and lead image embedded',
  examples: [articleExample]
})
export type Article = Static<typeof ArticleSchema>
export const ArticleRef = Type.Unsafe<Article>({ $ref: 'Article#' })

/** Top-level fields a frontend may ask for with fields= (id always comes along). */
export const summaryFieldNames = ['id', 'slug', 'headline', 'dek', 'kicker', 'status', 'publishedAt', 'createdAt', 'updatedAt', 'version', 'leadImage', 'section', 'tags', 'bylines', 'readingTimeMinutes', 'embargo'] as const
export const articleFieldNames = [...summaryFieldNames, 'metaTitle', 'metaDescription', 'canonicalUrl', 'body', 'bodyHtml', 'bodyText', 'wordCount', 'corrections', 'kill', 'jsonLd'] as const
/** Embedded relations include= chooses among (all by default). */
export const relationNames = ['leadImage', 'bylines', 'section', 'tags'] as const

const commaList = (names: readonly string[], allowEmpty: boolean) => `^${allowEmpty ? '(' : ''}(${names.join('|')})(,(${names.join('|')}))*${allowEmpty ? ')?' : ''}$`
const fieldsParam = (names: readonly string[]) => Type.String({ maxLength: 1000, pattern: commaList(names, false), description: `Only these fields, comma-separated (id is always included): ${names.join(', ')}` })
const includeParam = Type.String({ maxLength: 100, pattern: commaList(relationNames, true), description: `Only these embedded relations, comma-separated (all when omitted; empty for none): ${relationNames.join(', ')}` })
export const ShapeQuery = { fields: Type.Optional(fieldsParam(articleFieldNames)), include: Type.Optional(includeParam) }
export const ArticleReadQuery = Type.Object(ShapeQuery, { additionalProperties: false })
export type ArticleReadQuery = Static<typeof ArticleReadQuery>
export const summaryShapeQuery = { fields: Type.Optional(fieldsParam(summaryFieldNames)), include: Type.Optional(includeParam) }

/** The response with only the fields and relations asked for; unchanged when neither is given. */
export function shapeOf<T extends Record<string, unknown>> (item: T, query: { fields?: string, include?: string }): Partial<T> {
  if (query.fields === undefined && query.include === undefined) return item
  const fields = query.fields === undefined ? null : new Set(['id', ...query.fields.split(',')])
  const included = query.include === undefined ? null : new Set(query.include.split(',').filter(Boolean))
  return Object.fromEntries(Object.entries(item).filter(([name]) =>
    (fields === null || fields.has(name)) && (included === null || !(relationNames as readonly string[]).includes(name) || included.has(name)))) as Partial<T>
}

export const ArticleSort = StringEnum(['-publishedAt', 'publishedAt', '-updatedAt', 'updatedAt', '-createdAt', 'createdAt'], {
  default: '-publishedAt',
  description: 'Order; a leading "-" means descending. Ties are broken by id, so pages never overlap.'
})
export const ArticleListQuery = Type.Object({
  ...PageQuery,
  status: Type.Optional(StringEnum(['draft', 'scheduled', 'published', 'archived', 'killed', 'any'], { default: 'published', description: 'Defaults to published ("Latest News"); without a key, embargoed articles are left out' })),
  author: Type.Optional(Slug),
  section: Type.Optional(Slug),
  tag: Type.Optional(Slug),
  authorId: Type.Optional(Uuid),
  publishedAfter: Type.Optional(Type.String({ format: 'date-time', description: 'Published strictly after this instant' })),
  publishedBefore: Type.Optional(Type.String({ format: 'date-time', description: 'Published strictly before this instant' })),
  sort: Type.Optional(ArticleSort),
  updatedSince: Type.Optional(Type.String({ format: 'date-time', description: 'Only articles changed at or after this instant: a frontend syncing what changed since its last visit' })),
  ...summaryShapeQuery,
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 400, pattern: '^[A-Za-z0-9_-]+$', description: 'Keyset pagination: a nextCursor or prevCursor from an earlier page (same filters and sort). Pages stay put while stories are published: no duplicates, no gaps. Not with page' }))
}, { additionalProperties: false })
export type ArticleListQuery = Static<typeof ArticleListQuery>


export const EmbargoSet = Type.Object({
  until: Type.String({ format: 'date-time', description: 'When the embargo lifts and the article (if published) goes live; must lie in the future', examples: ['2030-01-01T06:00:00.000Z'] }),
  note: Type.Optional(Nullable(Line(500, { description: 'For the desk: who set the embargo and on what terms', examples: ['Embargoed by the ministry until the minister\'s statement'] })))
}, {
  additionalProperties: false,
  title: 'EmbargoSet',
  examples: [{ until: '2030-01-01T06:00:00.000Z', note: 'Embargoed by the ministry until the minister\'s statement' }]
})
export type EmbargoSet = Static<typeof EmbargoSet>

export const ReasonBody = Type.Object({
  reason: Title(2000, ['Legal: a court order bars publishing the defendant\'s name'])
}, {
  additionalProperties: false,
  title: 'Reason',
  description: 'Why: kept in the audit trail',
  examples: [{ reason: 'Legal: a court order bars publishing the defendant\'s name' }]
})
export type ReasonBody = Static<typeof ReasonBody>
