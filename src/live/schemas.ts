// Live coverage: a coverage on an article (which carries its slug, headline, bylines and
// publication), its rolling entries, and the pages readers poll with `since`.
import { Type, type Static } from 'typebox'
import { Nullable, StringEnum, Timestamp, Title, Uuid } from '../common-schemas.ts'
import { BodyBlockRef } from '../articles/body.ts'
import { ArticleSummaryRef } from '../articles/schemas.ts'
import { exampleIds, exampleSlugs } from '../examples.ts'

/** Entries pinned at once in one coverage: a reader's screen shows a few, not a second feed. */
export const MAX_PINNED = 3

export const CoverageStatus = StringEnum(['upcoming', 'live', 'ended'], {
  description: 'upcoming: announced, entries may be prepared; live: being covered; ended: closed to new entries (corrections, pins and deletions still allowed)'
})
export type CoverageStatus = Static<typeof CoverageStatus>

const at = '2026-11-25T06:00:00.000Z'
const coverageExample = { id: exampleIds.liveCoverage, articleId: exampleIds.liveArticle, status: 'live', startsAt: at, endsAt: null, createdAt: at, updatedAt: at }

export const LiveCoverageSchema = Type.Object({
  id: Uuid,
  articleId: Uuid,
  status: CoverageStatus,
  startsAt: Nullable(Timestamp),
  endsAt: Nullable(Timestamp),
  createdAt: Timestamp,
  updatedAt: Timestamp
}, {
  title: 'LiveCoverage',
  description: 'A live coverage of an article: its slug, headline, bylines and publication are the article\'s',
  examples: [coverageExample]
})
export type LiveCoverage = Static<typeof LiveCoverageSchema>

const entryAuthor = Type.Object({ id: Uuid, slug: Type.String(), name: Type.String() }, { title: 'LiveEntryAuthor' })

const entryExample = {
  id: exampleIds.liveEntry,
  coverageId: exampleIds.liveCoverage,
  revision: 2,
  headline: 'Polls close in the east',
  body: [{ type: 'paragraph', text: 'Polling stations in the eastern regions closed at 20:00 local time.' }],
  author: { id: exampleIds.author, slug: exampleSlugs.author, name: 'Alex Rowan' },
  postedAt: at,
  editedAt: null,
  pinned: true,
  keyEvent: true,
  correction: null,
  brokenOutArticleId: null,
  deleted: false,
  deletedAt: null
}

export const LiveEntrySchema = Type.Object({
  id: Uuid,
  coverageId: Uuid,
  revision: Type.Integer({ description: 'The coverage\'s revision at this entry\'s last change' }),
  headline: Nullable(Type.String()),
  body: Type.Array(BodyBlockRef),
  author: Nullable(entryAuthor),
  postedAt: Timestamp,
  editedAt: Nullable(Type.String({ format: 'date-time', description: 'When its text was last edited, if it was' })),
  pinned: Type.Boolean(),
  keyEvent: Type.Boolean(),
  correction: Nullable(Type.Object({ note: Type.String(), correctedAt: Timestamp }, { title: 'LiveEntryCorrection', description: 'A visible correction note' })),
  brokenOutArticleId: Nullable(Type.String({ description: 'The article this entry was broken out into' })),
  deleted: Type.Boolean({ description: 'True for a tombstone: the entry was deleted (its content is gone)' }),
  deletedAt: Nullable(Timestamp)
}, { title: 'LiveEntry', examples: [entryExample] })
export type LiveEntry = Static<typeof LiveEntrySchema>

export const CoverageCreate = Type.Object({
  articleId: Type.String({ format: 'uuid', examples: [exampleIds.article], description: 'The article the coverage runs on (one coverage per article)' }),
  status: Type.Optional(CoverageStatus),
  startsAt: Type.Optional(Nullable(Timestamp)),
  endsAt: Type.Optional(Nullable(Timestamp))
}, { additionalProperties: false, title: 'LiveCoverageCreate', examples: [{ articleId: exampleIds.article, status: 'upcoming', startsAt: '2026-12-05T18:00:00.000Z' }] })
export type CoverageCreate = Static<typeof CoverageCreate>

export const CoveragePatch = Type.Object({
  status: Type.Optional(CoverageStatus),
  startsAt: Type.Optional(Nullable(Timestamp)),
  endsAt: Type.Optional(Nullable(Timestamp))
}, { additionalProperties: false, minProperties: 1, title: 'LiveCoveragePatch', description: 'Going live sets startsAt and ending sets endsAt to now unless they are set', examples: [{ status: 'live' }] })
export type CoveragePatch = Static<typeof CoveragePatch>

const entryBodyExample = [{ type: 'paragraph', text: 'Turnout in the capital stood at 61% an hour before polls closed.' }]

export const EntryCreate = Type.Object({
  headline: Type.Optional(Nullable(Title(300))),
  body: Type.Array(BodyBlockRef, { minItems: 1, maxItems: 200, description: 'Body blocks, the same types as an article\'s' }),
  authorId: Type.Optional(Nullable(Type.String({ format: 'uuid', description: 'Who is credited; defaults to the writer key\'s author', examples: [exampleIds.author] }))),
  postedAt: Type.Optional(Type.String({ format: 'date-time', description: 'Defaults to now; not in the future' })),
  pinned: Type.Optional(Type.Boolean({ description: `At most ${MAX_PINNED} entries of a coverage are pinned at once` })),
  keyEvent: Type.Optional(Type.Boolean())
}, { additionalProperties: false, title: 'LiveEntryCreate', examples: [{ headline: 'Turnout high in the capital', body: entryBodyExample, authorId: exampleIds.author, keyEvent: false }] })
export type EntryCreate = Static<typeof EntryCreate>

export const EntryPatch = Type.Object({
  headline: Type.Optional(Nullable(Title(300))),
  body: Type.Optional(Type.Array(BodyBlockRef, { minItems: 1, maxItems: 200 })),
  pinned: Type.Optional(Type.Boolean({ description: `Pin or unpin; at most ${MAX_PINNED} pinned at once (409 PIN_LIMIT_REACHED beyond)` })),
  keyEvent: Type.Optional(Type.Boolean())
}, { additionalProperties: false, minProperties: 1, title: 'LiveEntryPatch', description: 'Editing headline or body sets editedAt; pinning and marking key events do not', examples: [{ pinned: true, keyEvent: true }] })
export type EntryPatch = Static<typeof EntryPatch>

export const EntryCorrection = Type.Object({
  note: Title(1000, ['An earlier version of this entry gave the wrong turnout figure.']),
  headline: Type.Optional(Nullable(Title(300))),
  body: Type.Optional(Type.Array(BodyBlockRef, { minItems: 1, maxItems: 200 }))
}, { additionalProperties: false, title: 'LiveEntryCorrection', examples: [{ note: 'An earlier version of this entry gave the wrong turnout figure.', body: [{ type: 'paragraph', text: 'Turnout in the capital stood at 58% an hour before polls closed.' }] }] })
export type EntryCorrection = Static<typeof EntryCorrection>

export const BreakOut = Type.Object({
  headline: Type.Optional(Title(300)),
  slug: Type.Optional(Type.String({ pattern: '^[a-z0-9]+(-[a-z0-9]+)*$', maxLength: 200 }))
}, { additionalProperties: false, title: 'LiveEntryBreakOut', examples: [{ headline: 'Capital turnout hits record high' }] })
export type BreakOut = Static<typeof BreakOut>

const cursorText = Type.String({ minLength: 1, maxLength: 300, pattern: '^[A-Za-z0-9_-]+$' })

export const EntriesQuery = Type.Object({
  since: Type.Optional(Type.String({ ...cursorText, description: 'A `latest` cursor from an earlier answer: only entries added, edited or deleted after it (tombstones included), newest change first' })),
  cursor: Type.Optional(Type.String({ ...cursorText, description: 'A `next` cursor from an earlier answer: the following (older) page' })),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Entries per page' })
}, { additionalProperties: false })
export type EntriesQuery = Static<typeof EntriesQuery>

const pageFields = {
  coverage: LiveCoverageSchema,
  items: Type.Array(LiveEntrySchema, { description: 'Without since: the entries newest first (no tombstones). With since: what changed after it, the latest change first, tombstones included' }),
  latest: Type.String({ description: 'The coverage\'s position now: send it as since to learn what changes from here' }),
  next: Nullable(Type.String({ description: 'Send as cursor for the next page; null on the last' }))
}

export const EntryPageSchema = Type.Object(pageFields, {
  title: 'LiveEntryPage',
  examples: [{ coverage: coverageExample, items: [entryExample], latest: 'MDE5YWI4YTQ.Mg', next: null }]
})

export const CoveragePageSchema = Type.Object({
  ...pageFields,
  article: ArticleSummaryRef,
  pinned: Type.Array(LiveEntrySchema, { description: `The pinned entries (at most ${MAX_PINNED}), newest first` }),
  jsonLd: Type.Record(Type.String(), Type.Unknown(), { description: 'schema.org LiveBlogPosting with liveBlogUpdate (the entries of this page) and coverage times' })
}, { title: 'LiveCoveragePage' })
