// The Copydesk client: openapi-fetch over the generated types (schema.ts), plus the three things a
// generated client cannot know: where the API key goes, how If-Match protects an edit, and how each
// list operation's pages follow one another. Everything else is the generated `api`, unwrapped.
import createClient, { type Client, type ClientOptions } from 'openapi-fetch'
import type { components, operations, paths } from './schema.ts'

export type { components, operations, paths }
export type Schemas = components['schemas']
export type Problem = Schemas['Problem']
export type Article = Schemas['Article']
export type Author = Schemas['Author']
export type BodyBlock = Schemas['BodyBlock']
export type ArticleCreate = NonNullable<operations['createArticle']['requestBody']>['content']['application/json']
export type ArticlePatch = NonNullable<operations['updateArticle']['requestBody']>['content']['application/json']

/** What every openapi-fetch call resolves to, whatever the operation. */
export interface FetchResult { data?: unknown, error?: unknown, response: Response }
/** The success body of an openapi-fetch result. */
export type SuccessData<T extends FetchResult> = NonNullable<T['data']>

/**
 * A refused request: the problem+json body's stable `code` (branch on it, never on `detail`), the
 * HTTP status and the whole problem. A response that is not problem+json (a proxy's 502) gets the
 * code `HTTP_<status>`.
 */
export class CopydeskError extends Error {
  readonly status: number
  readonly code: string
  readonly detail: string
  readonly problem: Problem | undefined

  constructor (status: number, code: string, detail: string, problem?: Problem) {
    super(`${status} ${code}: ${detail}`)
    this.name = 'CopydeskError'
    this.status = status
    this.code = code
    this.detail = detail
    this.problem = problem
  }
}

/** 412: the article changed since it was read. Read it again, reapply the change, send the new ETag. */
export class VersionMismatchError extends CopydeskError {
  /** The version now stored, when the server says. */
  readonly currentVersion: number | undefined

  constructor (problem: Problem) {
    super(problem.status, problem.code, problem.detail, problem)
    this.name = 'VersionMismatchError'
    this.currentVersion = problem.currentVersion
  }
}

function isProblem (body: unknown): body is Problem {
  return typeof body === 'object' && body !== null && 'code' in body && typeof body.code === 'string' &&
    'status' in body && typeof body.status === 'number' && 'detail' in body && typeof body.detail === 'string'
}

/** The typed error for a refused response; `body` is what openapi-fetch parsed from it. */
export function errorOf (response: Response, body: unknown): CopydeskError {
  if (!isProblem(body)) {
    const detail = typeof body === 'string' && body !== '' ? body.slice(0, 500) : response.statusText
    return new CopydeskError(response.status, `HTTP_${response.status}`, detail)
  }
  if (response.status === 412) return new VersionMismatchError(body)
  return new CopydeskError(body.status, body.code, body.detail, body)
}

/** The success body of a call, or a thrown CopydeskError. For operations that answer with a body. */
export async function unwrap<T extends FetchResult> (call: Promise<T> | T): Promise<SuccessData<T>> {
  const { data, error, response } = await call
  if (!response.ok) throw errorOf(response, error)
  if (data === undefined || data === null) throw new CopydeskError(response.status, 'EMPTY_RESPONSE', 'The response has no body')
  return data
}

/** Throws a CopydeskError unless the call succeeded. For operations without a body (204). */
export async function ensureOk (call: Promise<FetchResult> | FetchResult): Promise<void> {
  const { error, response } = await call
  if (!response.ok) throw errorOf(response, error)
}

/** A body with the ETag it was served with: what an edit sends back in If-Match. */
export interface Versioned<T> {
  readonly value: T
  readonly etag: string
}

/** The success body of a call together with its ETag, or a thrown CopydeskError. */
export async function versioned<T extends FetchResult> (call: Promise<T> | T): Promise<Versioned<SuccessData<T>>> {
  const result = await call
  const value = await unwrap(result)
  const etag = result.response.headers.get('etag')
  if (etag === null) throw new CopydeskError(result.response.status, 'MISSING_ETAG', 'The response has no ETag to edit with')
  return { value, etag }
}

/** Where the next page starts: spread it into the list operation's query. Empty for the first page. */
export interface PagePosition {
  /** Numbered pages (every list operation). */
  page?: number
  /** Keyset pages (`GET /articles`): the previous page's `nextCursor`. */
  cursor?: string
  /** The change feed (`GET /changes`): the previous page's `next`. */
  after?: string
}

/** The position after `page`, following whatever the envelope offers, or null after the last page. */
function positionAfter (page: unknown, current: PagePosition): PagePosition | null {
  if (typeof page !== 'object' || page === null) return null
  if ('hasMore' in page && 'next' in page) return page.hasMore === true && typeof page.next === 'string' ? { after: page.next } : null
  if ('nextCursor' in page && typeof page.nextCursor === 'string') return { cursor: page.nextCursor }
  // A cursor page's number means nothing: once on cursors, a missing nextCursor is the end.
  if (current.cursor !== undefined) return null
  if ('page' in page && 'totalPages' in page && typeof page.page === 'number' && typeof page.totalPages === 'number') {
    return page.page < page.totalPages ? { page: page.page + 1 } : null
  }
  return null
}

/**
 * Every page of a list operation, in order: `fetchPage` is called with the next position (spread it
 * into the query) until the envelope says there is no more. Keyset cursors are preferred where the
 * operation offers them: they neither skip nor repeat stories published while you read.
 */
export async function * pages<T extends FetchResult> (fetchPage: (position: PagePosition) => Promise<T>): AsyncGenerator<SuccessData<T>, void, undefined> {
  let position: PagePosition | null = {}
  while (position !== null) {
    const page = await unwrap(fetchPage(position))
    yield page
    position = positionAfter(page, position)
  }
}

type ItemOf<Page> = Page extends { items: Array<infer Item> } ? Item : never

/** Every item of every page of a list operation (see `pages`). */
export async function * items<T extends FetchResult> (fetchPage: (position: PagePosition) => Promise<T>): AsyncGenerator<ItemOf<SuccessData<T>>, void, undefined> {
  for await (const page of pages(fetchPage)) {
    if (typeof page === 'object' && 'items' in page && Array.isArray(page.items)) yield * page.items
  }
}

export interface CopydeskClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** Where the API is, e.g. https://api.example.com */
  baseUrl: string
  /** A `cdk_…` key, sent as `Authorization: Bearer <key>`; leave it out to read published content. */
  apiKey?: string
}

export interface CopydeskClient {
  /** Every operation of the document, typed (openapi-fetch): pass results to `unwrap`, `versioned` or `ensureOk`. */
  readonly api: Client<paths>
  /** An article by id, with the ETag to edit it with. */
  readArticle: (id: string) => Promise<Versioned<Article>>
  /** An article by slug (a former slug is followed to the current one), with its ETag. */
  readArticleBySlug: (slug: string) => Promise<Versioned<Article>>
  /**
   * Changes some fields of the article as it was read (publish with `{ status: 'published' }`),
   * guarded by If-Match: a colleague's edit in between makes it throw VersionMismatchError (412)
   * instead of being overwritten.
   */
  updateArticle: (current: Versioned<{ id: string }>, patch: ArticlePatch) => Promise<Versioned<Article>>
  /** Replaces the article as it was read (fields left out are cleared), guarded by If-Match. */
  replaceArticle: (current: Versioned<{ id: string }>, article: ArticleCreate) => Promise<Versioned<Article>>
  /** Deletes the article as it was read, guarded by If-Match. */
  deleteArticle: (current: Versioned<{ id: string }>) => Promise<void>
}

export function createCopydeskClient (options: CopydeskClientOptions): CopydeskClient {
  const { apiKey, headers, ...rest } = options
  const api = createClient<paths>({
    ...rest,
    headers: { ...headersRecord(headers), ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }) }
  })
  const ifMatch = (current: Versioned<{ id: string }>) => ({ path: { id: current.value.id }, header: { 'if-match': current.etag } })
  return {
    api,
    readArticle: async (id) => await versioned(api.GET('/articles/{id}', { params: { path: { id } } })),
    readArticleBySlug: async (slug) => await versioned(api.GET('/articles/slug/{slug}', { params: { path: { slug } } })),
    updateArticle: async (current, patch) => await versioned(api.PATCH('/articles/{id}', { params: ifMatch(current), body: patch })),
    replaceArticle: async (current, article) => await versioned(api.PUT('/articles/{id}', { params: ifMatch(current), body: article })),
    deleteArticle: async (current) => { await ensureOk(api.DELETE('/articles/{id}', { params: ifMatch(current) })) }
  }
}

/** Client-wide headers as a plain record, so the key can be added without mutating the caller's object. */
function headersRecord (headers: CopydeskClientOptions['headers']): Record<string, string> {
  if (headers === undefined) return {}
  if (headers instanceof Headers || Array.isArray(headers)) return Object.fromEntries(new Headers(headers))
  const record: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== null && value !== undefined) record[name] = Array.isArray(value) ? value.join(', ') : String(value)
  }
  return record
}
