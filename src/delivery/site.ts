// Where things live on the public website and this API, for the links feeds, sitemaps and
// structured data carry. One place, so every format agrees.
import type { Config } from '../config.ts'
import type { Article, ArticleSummary } from '../articles/schemas.ts'
import type { Image } from '../images/schemas.ts'
import { isHttpUrl } from '../validation.ts'

export interface Site {
  name: string
  language: string
  url: string
  logoUrl: string | null
  articleUrl: (slug: string) => string
  authorUrl: (slug: string) => string
  /** Absolute address of a URL the API hands out (image files are served by the API). */
  absolute: (url: string) => string
  /** `absolute(url)` when that is a URL others can follow, else null (a record stored before URLs were checked). */
  followable: (url: string) => string | null
}

export function siteOf (config: Config): Site {
  const api = config.apiPublicUrl === '' ? config.siteUrl : config.apiPublicUrl
  const absolute = (url: string): string => /^https?:\/\//.test(url) ? url : `${api}${url}`
  const page = (template: string, slug: string): string => `${config.siteUrl}${template.replace('{slug}', encodeURIComponent(slug))}`
  return {
    name: config.siteName,
    language: config.siteLanguage,
    url: config.siteUrl,
    logoUrl: config.siteLogoUrl === '' ? null : config.siteLogoUrl,
    articleUrl: (slug) => page(config.articlePath, slug),
    authorUrl: (slug) => page(config.authorPath, slug),
    absolute,
    followable: (url) => {
      const address = absolute(url)
      return isHttpUrl(address) ? address : null
    }
  }
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
