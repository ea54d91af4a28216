// Building blocks shared by every resource's schemas.
import { Type, type Static, type TEnum, type TProperties, type TSchema, type TSchemaOptions, type TString } from 'typebox'

// No control characters: they break feeds, HTML and PostgreSQL text columns (NUL).
const SINGLE_LINE = '^[^\\u0000-\\u001F\\u007F]*$'
const MULTI_LINE = '^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F]*$'
const NOT_BLANK = '^(?=[\\s\\S]*\\S)[^\\u0000-\\u001F\\u007F]*$'
const SLUG_PATTERN = '^[a-z0-9]+(?:-[a-z0-9]+)*$'
const HTTP_URL_PATTERN = '^[Hh][Tt][Tt][Pp][Ss]?://[^\\s]+$'

/** What each pattern means, for error messages people can act on. */
export const patternHints = new Map<string, string>([
  [SINGLE_LINE, 'must be one line, without control characters'],
  [MULTI_LINE, 'must not contain control characters'],
  [NOT_BLANK, 'must not be blank, and must be one line without control characters'],
  [SLUG_PATTERN, 'must be lowercase letters, digits and single hyphens, e.g. "my-story-2"'],
  [HTTP_URL_PATTERN, 'must be an http:// or https:// URL']
])

const uuidOptions = { format: 'uuid', description: 'Identifier (UUID)' }
const slugOptions = { minLength: 1, maxLength: 160, pattern: SLUG_PATTERN, description: 'Lowercase, URL-safe: letters, digits and single hyphens' }
// No examples here: a parameter takes its schema's example, and Swagger UI fills it in; an id or slug
// is an example only where it names a row of that kind (idParamsFor, slugParamsFor).
export const Uuid = Type.String(uuidOptions)
export const Slug = Type.String(slugOptions)
/** A required one-line text that is not blank. */
export const Title = (maxLength: number, examples: string[] = []): TString => Type.String({ minLength: 1, maxLength, pattern: NOT_BLANK, examples })
/** An optional one-line text. */
export const Line = (maxLength: number, extra: object = {}): TString => Type.String({ maxLength, pattern: SINGLE_LINE, ...extra })
/** Free text that may span lines. */
export const Paragraphs = (maxLength: number, extra: object = {}): TString => Type.String({ maxLength, pattern: MULTI_LINE, ...extra })
export const HttpUrl = (extra: object = {}): TString => Type.String({ format: 'uri', maxLength: 2048, pattern: HTTP_URL_PATTERN, ...extra })
export const Timestamp = Type.String({ format: 'date-time', examples: ['2026-11-25T06:00:00.000Z'] })
/**
 * One of these strings. TypeBox's Enum leaves out `type`, and generated clients then cannot tell
 * a string union from an untyped value: the document says `type: string` beside `enum`.
 */
export function StringEnum<const Values extends string[]> (values: readonly [...Values], options: TSchemaOptions = {}): TEnum<Values> {
  return Type.Enum(values, { ...options, type: 'string' })
}
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])

export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false })
export const SlugParams = Type.Object({ slug: Slug }, { additionalProperties: false })
/** Path parameters naming one row, with the id of a demo seed row of that kind (src/examples.ts) as example. */
export const idParamsFor = (example: string) => Type.Object({ id: Type.String({ ...uuidOptions, examples: [example] }) }, { additionalProperties: false })
export const slugParamsFor = (example: string) => Type.Object({ slug: Type.String({ ...slugOptions, examples: [example] }) }, { additionalProperties: false })

export const PageQuery = {
  page: Type.Integer({ minimum: 1, maximum: 100000, default: 1, description: 'Page number, from 1' }),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Items per page (at most 100)' })
}

/** A list page; `extra` adds properties or redefines one in its place (the article list's page may be null). */
export const Page = <T extends TSchema, E extends TProperties = {}>(item: T, name: string, extra?: E) => {
  const base = {
    items: Type.Array(item),
    total: Type.Integer({ minimum: 0, description: 'Items matching the query, across all pages' }),
    page: Type.Integer({ minimum: 1 }),
    limit: Type.Integer({ minimum: 1 }),
    totalPages: Type.Integer({ minimum: 0 })
  }
  // TypeScript types a spread of a generic as an intersection, which would make a redefined property both.
  return Type.Object({ ...base, ...extra } as unknown as Omit<typeof base, keyof E> & E, { title: `${name}List` })
}

export interface PageResult<T> { items: T[], total: number, page: number, limit: number, totalPages: number }
export function pageResult<T> (items: T[], total: number, page: number, limit: number): PageResult<T> {
  return { items, total, page, limit, totalPages: Math.ceil(total / limit) }
}

/** An id the caller chooses: only the demo seed does (src/examples.ts); request bodies cannot carry one. */
export interface FixedId { id?: string }

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ maxLength: 200, description: 'The ETag of the version you edited; a stale one gets 412' }))
})
export type IfMatchHeaders = Static<typeof IfMatchHeaders>
