// Preflight: the checks a desk runs before a story goes live (alt text of images not marked decorative,
// photo credits, headline and dek lengths, links to stories readers cannot open), each an error or a
// warning by PREFLIGHT_RULES.
// Errors and missing sign-offs block publication: assertPublishable is called by every write that
// takes an article live or schedules it, inside that write's transaction, on the article as written.
import type { Database, Prisma } from '../db/client.ts'
import { errors, type CatalogueError, type Problem } from '../errors.ts'
import type { Article, ArticleStatus } from './schemas.ts'
import type { BodyBlock } from './body.ts'
import { deskRules, type DeskRules, type PreflightRule } from './desk.ts'
import { readSignoffs } from './signoffs.ts'

type Client = Database | Prisma.TransactionClient

export interface Finding {
  rule: PreflightRule
  message: string
  /** Where in the article, as a JSON Pointer ("/leadImage", "/body/3"). */
  pointer: string
}

export interface PreflightReport {
  articleId: string
  version: number
  /** True when nothing blocks publication: no preflight error and no missing sign-off. */
  publishable: boolean
  errors: Finding[]
  warnings: Finding[]
  missingSignoffs: string[]
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Every URL the body links to, with the block it is in. */
function linksOf (body: BodyBlock[]): Array<{ url: string, pointer: string }> {
  const links: Array<{ url: string, pointer: string }> = []
  const fromText = (text: string, pointer: string): void => {
    for (const match of text.matchAll(/href="([^"]*)"/g)) links.push({ url: (match[1] as string).replace(/&amp;/g, '&'), pointer })
  }
  body.forEach((block, index) => {
    const pointer = `/body/${index}`
    if ('text' in block && typeof block.text === 'string') fromText(block.text, pointer)
    if (block.type === 'list') block.items.forEach((item) => { fromText(item, pointer) })
    if ((block.type === 'promo' || block.type === 'embed') && block.url !== undefined) links.push({ url: block.url, pointer })
  })
  return links
}

/** The article a URL points at on the website (ARTICLE_PATH) or this API, by slug or id; null for any other URL. */
function articleTargetOf (url: string, rules: DeskRules): { slug?: string, id?: string } | null {
  let parsed: URL
  try { parsed = new URL(url) } catch { return null }
  const path = decodeURIComponent(parsed.pathname).replace(/\/$/, '')
  if (rules.siteUrl !== '' && parsed.origin === new URL(rules.siteUrl).origin) {
    const sitePath = new URL(rules.siteUrl).pathname.replace(/\/$/, '')
    const [before, after] = rules.articlePath.split('{slug}') as [string, string]
    const full = `${sitePath}${before}`
    if (path.startsWith(full) && path.endsWith(after.replace(/\/$/, ''))) {
      const slug = path.slice(full.length, path.length - after.replace(/\/$/, '').length)
      if (/^[a-z0-9-]+$/.test(slug)) return { slug }
    }
  }
  if (rules.apiUrls.some((api) => parsed.origin === new URL(api).origin)) {
    const bySlug = /\/articles\/slug\/([a-z0-9-]+)$/.exec(path)
    if (bySlug !== null) return { slug: bySlug[1] as string }
    const byId = /\/articles\/([^/]+)$/.exec(path)
    if (byId !== null && UUID.test(byId[1] as string)) return { id: (byId[1] as string).toLowerCase() }
  }
  return null
}

async function linkFindings (client: Client, article: Article, rules: DeskRules): Promise<Finding[]> {
  const targets = linksOf(article.body).map((link) => ({ ...link, target: articleTargetOf(link.url, rules) })).filter((link) => link.target !== null)
  if (targets.length === 0) return []
  const slugs = targets.flatMap((link) => link.target?.slug ?? [])
  const ids = targets.flatMap((link) => link.target?.id ?? [])
  const found = await client.article.findMany({ where: { OR: [{ slug: { in: slugs } }, { id: { in: ids } }] }, select: { id: true, slug: true, status: true, embargo: { select: { until: true } } } })
  const former = await client.articleFormerSlug.findMany({ where: { slug: { in: slugs } }, select: { slug: true, article: { select: { id: true, status: true, embargo: { select: { until: true } } } } } })
  const statusOf = (target: { slug?: string, id?: string }): string | null => {
    const match = found.find((row) => row.slug === target.slug || row.id === target.id) ?? former.find((row) => row.slug === target.slug)?.article
    // Under embargo readers find nothing there either, whatever its status.
    return match === undefined ? null : match.embargo !== null ? 'under embargo' : match.status
  }
  const findings: Finding[] = []
  for (const link of targets) {
    const target = link.target as { slug?: string, id?: string }
    if (target.id === article.id || target.slug === article.slug) continue
    const status = statusOf(target)
    if (status === 'published') continue
    findings.push({ rule: 'unpublished-links', pointer: link.pointer, message: status === null ? `links to ${link.url}, which is no article` : `links to ${link.url}, an article that is ${status}: readers would find nothing there` })
  }
  return findings
}

/** An image needs alt text unless it is marked decorative (an empty one by accident is not). */
const lacksAltText = (image: { altText: string, decorative: boolean }): boolean => !image.decorative && image.altText.trim() === ''

async function imageFindings (client: Client, article: Article): Promise<Finding[]> {
  const findings: Finding[] = []
  const lead = article.leadImage as { id: string, altText: string, decorative: boolean, credit: string | null } | null
  if (lead !== null) {
    if (lacksAltText(lead)) findings.push({ rule: 'alt-text', pointer: '/leadImage', message: 'the lead image has no alt text and is not marked decorative (PATCH /images/{id} with altText, or decorative: true for a picture that adds nothing to the story)' })
    if ((lead.credit ?? '').trim() === '') findings.push({ rule: 'image-credit', pointer: '/leadImage', message: 'the lead image has no credit' })
  }
  const blocks = article.body.map((block, index) => ({ block, index })).filter(({ block }) => block.type === 'image')
  if (blocks.length === 0) return findings
  const ids = blocks.map(({ block }) => (block as { imageId: string }).imageId)
  const images = new Map((await client.image.findMany({ where: { id: { in: ids } }, select: { id: true, altText: true, decorative: true, credit: true } })).map((image) => [image.id, image]))
  for (const { block, index } of blocks) {
    const image = images.get((block as { imageId: string }).imageId)
    if (image === undefined) continue
    if (lacksAltText(image)) findings.push({ rule: 'body-alt-text', pointer: `/body/${index}`, message: `the image ${image.id} has no alt text and is not marked decorative` })
    if ((image.credit ?? '').trim() === '') findings.push({ rule: 'image-credit', pointer: `/body/${index}`, message: `the image ${image.id} has no credit` })
  }
  return findings
}

function lengthFindings (article: Article, rules: DeskRules): Finding[] {
  const findings: Finding[] = []
  const check = (rule: PreflightRule, field: string, value: string | null, { min, max }: { min: number, max: number }): void => {
    const length = [...(value ?? '')].length
    if (length < min) findings.push({ rule, pointer: `/${field}`, message: value === null ? `the ${field} is missing (at least ${min} characters)` : `the ${field} has ${length} characters, fewer than ${min}` })
    else if (length > max) findings.push({ rule, pointer: `/${field}`, message: `the ${field} has ${length} characters, more than ${max}` })
  }
  check('headline-length', 'headline', article.headline, rules.headlineLength)
  check('dek-length', 'dek', article.dek, rules.dekLength)
  return findings
}

/**
 * Runs every rule that is not off on the article as it stands and sorts the findings by level.
 * `missingSignoffs`, when given, replaces the article's own (a pending revision has its own).
 */
export async function preflight (client: Client, article: Article, missingSignoffs?: string[]): Promise<PreflightReport> {
  const rules = deskRules(client)
  const findings = [
    ...await imageFindings(client, article),
    ...lengthFindings(article, rules),
    ...(rules.preflight['unpublished-links'] === 'off' ? [] : await linkFindings(client, article, rules))
  ]
  const missing = missingSignoffs ?? (await readSignoffs(client, article.id)).missing
  const errorsFound = findings.filter((finding) => rules.preflight[finding.rule] === 'error')
  return {
    articleId: article.id,
    version: article.version,
    publishable: errorsFound.length === 0 && missing.length === 0,
    errors: errorsFound,
    warnings: findings.filter((finding) => rules.preflight[finding.rule] === 'warning'),
    missingSignoffs: missing
  }
}

/**
 * Refuses (409, one problem listing every blocker) a write that takes an article live or schedules
 * it while a required sign-off of its current content is missing or a preflight rule at "error"
 * fails; also a content edit of a scheduled article, which voids the sign-offs it was scheduled
 * with. Edits of an article already live are not held back: a fix to a live story must not wait.
 */
export async function assertPublishable (tx: Prisma.TransactionClient, article: Article, previousStatus: ArticleStatus | null): Promise<void> {
  const status = article.status
  if (status !== 'published' && status !== 'scheduled') return
  if (status === previousStatus && status === 'published') return
  if (status === previousStatus) {
    const revision = await tx.articleRevision.findUnique({ where: { articleId_version: { articleId: article.id, version: article.version } }, select: { changedFields: true } })
    const changed = (revision?.changedFields ?? []) as string[]
    if (changed.every((field) => field === 'status' || field === 'publishedAt')) return
  }
  const report = await preflight(tx, article)
  if (report.publishable) return
  const blockers: NonNullable<Problem['blockers']> = [
    ...report.missingSignoffs.map((kind) => ({ check: 'signoff', name: kind, message: `needs the ${kind} sign-off of its current content` })),
    ...report.errors.map((finding) => ({ check: 'preflight', name: finding.rule, message: `${finding.pointer}: ${finding.message}` }))
  ]
  const error = errors.publicationBlocked(`The article cannot be ${status === 'scheduled' ? 'scheduled' : 'published'} yet: ${blockers.map((blocker) => `${blocker.check} ${blocker.name} (${blocker.message})`).join('; ')}. GET /articles/${article.id}/preflight lists what is missing.`) as CatalogueError
  error.blockers = blockers
  throw error
}
