// Where things live on the public website and this API, for the links feeds, sitemaps and
// structured data carry. One place, so every format agrees.
import type { Config } from '../config.ts'
import type { Article, ArticleSummary } from '../articles/schemas.ts'
import type { Image } from '../images/schemas.ts'
import { escapeHtml } from '../articles/body.ts'
import { isHttpUrl } from '../validation.ts'

export interface Site {
  name: string
  language: string
  /** The website's home page; without SITE_URL, this API's Latest News. */
  url: string
  logoUrl: string | null
  articleUrl: (slug: string) => string
  authorUrl: (slug: string) => string
  /** Absolute address of a URL the API hands out (image files are served by the API). */
  absolute: (url: string) => string
  /** `absolute(url)` when that is a URL others can follow, else null (a record stored before URLs were checked). */
  followable: (url: string) => string | null
  /** API_PUBLIC_URL, which image URLs in responses are made absolute with; empty: they stay relative. */
  imageBase: string
}

/**
 * Where this API answers when nobody said (API_PUBLIC_URL, SITE_URL): the address it listens on,
 * with a wildcard address replaced by the loopback one, which at least answers on this machine.
 */
export function listeningUrl (config: Pick<Config, 'host' | 'port'>): string {
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '::1' : config.host
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`
}

export function siteOf (config: Config): Site {
  const api = config.apiPublicUrl !== '' ? config.apiPublicUrl : config.siteUrl !== '' ? config.siteUrl : listeningUrl(config)
  const absolute = (url: string): string => /^https?:\/\//.test(url) ? url : `${api}${url}`
  const slugged = (template: string, slug: string): string => template.replace('{slug}', encodeURIComponent(slug))
  // Without a website, links go to this API's own public reads: /articles/{id} takes ids only
  // (a slug there is 400), so articles and authors are linked by their slug routes.
  const page = (template: string, apiTemplate: string, slug: string): string =>
    config.siteUrl === '' ? `${api}${slugged(apiTemplate, slug)}` : `${config.siteUrl}${slugged(template, slug)}`
  return {
    name: config.siteName,
    language: config.siteLanguage,
    url: config.siteUrl === '' ? `${api}/articles` : config.siteUrl,
    logoUrl: config.siteLogoUrl === '' ? null : config.siteLogoUrl,
    articleUrl: (slug) => page(config.articlePath, '/articles/slug/{slug}', slug),
    authorUrl: (slug) => page(config.authorPath, '/authors/slug/{slug}', slug),
    absolute,
    followable: (url) => {
      const address = absolute(url)
      return isHttpUrl(address) ? address : null
    },
    imageBase: config.apiPublicUrl
  }
}

/**
 * What a start with these settings should warn about (server.ts logs it): without SITE_URL, links
 * name this API's own routes at an address that may work on this machine only. Quiet in development
 * and tests (NODE_ENV), where that is the point.
 */
export function siteWarnings (config: Config, env: NodeJS.ProcessEnv = process.env): string[] {
  if (config.siteUrl !== '' || env.NODE_ENV === 'development' || env.NODE_ENV === 'test') return []
  const site = siteOf(config)
  return [`SITE_URL is not set: feeds, sitemaps and JSON-LD link to this API's own pages (${site.articleUrl('')}{slug}); ` +
    'set SITE_URL to the public website, and API_PUBLIC_URL to the address readers reach this API at']
}

/**
 * The same response with the URLs of image files this API serves (`/images/{id}/file…`) made
 * absolute with `base`: in image objects (anything with a `url` and a `mimeType`) and in the
 * `<img>` of `bodyHtml`. Objects are copied where something changes, never modified; absolute URLs
 * are left alone, so applying it twice changes nothing.
 */
export function withAbsoluteImageUrls<T> (value: T, base: string): T {
  if (base === '') return value
  return rewriteImageUrls(value, base, escapeHtml(base)) as T
}

function rewriteImageUrls (value: unknown, base: string, htmlBase: string): unknown {
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null
    value.forEach((item, index) => {
      const rewritten = rewriteImageUrls(item, base, htmlBase)
      if (rewritten !== item) (copy ??= [...value])[index] = rewritten
    })
    return copy ?? value
  }
  if (value === null || typeof value !== 'object') return value
  // Plain objects only: dates and buffers pass as they are.
  const prototype = Object.getPrototypeOf(value) as unknown
  if (prototype !== Object.prototype && prototype !== null) return value
  const record = value as Record<string, unknown>
  let copy: Record<string, unknown> | null = null
  for (const [key, item] of Object.entries(record)) {
    let rewritten = item
    if (key === 'url' && typeof item === 'string' && 'mimeType' in record && item.startsWith('/')) rewritten = `${base}${item}`
    else if (key === 'bodyHtml' && typeof item === 'string') rewritten = item.replaceAll('<img src="/', `<img src="${htmlBase}/`)
    else if (item !== null && typeof item === 'object') rewritten = rewriteImageUrls(item, base, htmlBase)
    if (rewritten !== item) (copy ??= { ...record })[key] = rewritten
  }
  return copy ?? value
}

/**
 * schema.org NewsArticle as JSON-LD, ready for a <script type="application/ld+json"> on the article
 * page: what Google and others read for headline, image, dates, authors and publisher.
 */
export function newsArticleJsonLd (article: Article | ArticleSummary, site: Site): Record<string, unknown> {
  const image = (lead: Image | null): string[] | undefined => lead === null ? undefined : [site.absolute(lead.url)]
  const full = article as Partial<Article>
  return {
    '@context': 'https://schema.org',
    '@type': 'NewsArticle',
    mainEntityOfPage: { '@type': 'WebPage', '@id': site.articleUrl(article.slug) },
    url: site.articleUrl(article.slug),
    headline: article.headline.length > 110 ? `${article.headline.slice(0, 109)}…` : article.headline,
    ...(article.dek !== null ? { description: article.dek } : {}),
    ...(image(article.leadImage) !== undefined ? { image: image(article.leadImage) } : {}),
    ...(article.publishedAt !== null ? { datePublished: article.publishedAt } : {}),
    dateModified: article.updatedAt,
    author: article.bylines.map((byline) => ({ '@type': 'Person', name: byline.author.name, url: site.authorUrl(byline.author.slug) })),
    publisher: {
      '@type': 'NewsMediaOrganization',
      name: site.name,
      url: site.url,
      ...(site.logoUrl !== null ? { logo: { '@type': 'ImageObject', url: site.logoUrl } } : {})
    },
    inLanguage: site.language,
    ...(full.wordCount !== undefined ? { wordCount: full.wordCount } : {}),
    isAccessibleForFree: true
  }
}
