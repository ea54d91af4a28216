// A live coverage's entries as an Atom 1.0 feed, for feed readers and aggregators that follow a
// story as it unfolds: the latest entries (deleted ones left out), each with its own link into the page.
import { XMLBuilder } from 'fast-xml-parser'
import type { Site } from '../delivery/site.ts'
import type { ArticleSummary } from '../articles/schemas.ts'
import type { LiveEntry } from './schemas.ts'

export const LIVE_FEED_LENGTH = 50
const xml = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@', format: false, suppressEmptyNode: true })

function titleOf (entry: LiveEntry, text: string): string {
  if (entry.headline !== null) return entry.headline
  return text.length > 80 ? `${text.slice(0, 79)}…` : text
}

export function liveAtomFeed (article: ArticleSummary, entries: Array<{ document: string, bodyText: string }>, selfUrl: string, site: Site): string {
  const page = site.articleUrl(article.slug)
  const shown = entries.map((row) => ({ entry: JSON.parse(row.document) as LiveEntry, text: row.bodyText }))
  const updatedOf = (entry: LiveEntry): string => [entry.postedAt, entry.editedAt, entry.correction?.correctedAt ?? null].filter((time): time is string => time !== null).sort().at(-1) as string
  const updated = shown.map(({ entry }) => updatedOf(entry)).sort().at(-1) ?? article.updatedAt
  return '<?xml version="1.0" encoding="UTF-8"?>' + xml.build({
    feed: {
      '@xmlns': 'http://www.w3.org/2005/Atom',
      '@xml:lang': site.language,
      id: selfUrl,
      title: `${article.headline} – ${site.name}`,
      updated,
      link: [{ '@rel': 'alternate', '@href': page }, { '@rel': 'self', '@type': 'application/atom+xml', '@href': selfUrl }],
      author: { name: site.name, uri: site.url },
      generator: 'Copydesk',
      entry: shown.map(({ entry, text }) => ({
        id: `urn:uuid:${entry.id}`,
        title: { '#text': titleOf(entry, text), '@type': 'text' },
        updated: updatedOf(entry),
        published: entry.postedAt,
        link: { '@rel': 'alternate', '@href': `${page}#entry-${entry.id}` },
        ...(entry.author !== null ? { author: { name: entry.author.name, uri: site.authorUrl(entry.author.slug) } } : {}),
        ...(entry.keyEvent ? { category: { '@term': 'key-event' } } : {}),
        content: { '#text': entry.correction === null ? text : `${text}\n\nCorrection: ${entry.correction.note}`, '@type': 'text' }
      }))
    }
  })
}
