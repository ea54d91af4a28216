// A live coverage's readers as an audience of the change stream (src/changes/stream.ts): the same
// poller over the shared change log, so entries posted through any instance reach every instance's
// readers; each change of the coverage is made into one frame, shared by all its readers.
import type { Audience } from '../changes/stream.ts'
import type { FeedItem } from '../changes/feed.ts'

/** Event names by change: what a reader's page does with it (add, replace, remove the entry). */
const eventOf: Record<string, string> = {
  'live-entry.posted': 'entry.posted',
  'live-entry.deleted': 'entry.deleted'
}

/** A coverage's stream follows its entries, itself, and its article (to end when that is taken down). */
export const liveChangeTypes = ['live-entry', 'live-coverage', 'article'] as const

/**
 * The readers of one coverage. The article's changes are sent to none of them, but when the public
 * can no longer read it (unpublished, embargoed, killed, deleted: a public change whose data no longer
 * says published), public readers are sent `coverage.withdrawn` and their streams end; staff streams
 * end only when the article is deleted. The frame carries its position, so a reconnection after the
 * article is back resumes from there; while it stays down, reconnections are refused (404/410).
 */
export function coverageAudience (coverageId: string, articleId: string, stillFollowed: () => Promise<boolean>): Audience {
  return {
    key: `live:${coverageId}`,
    stillFollowed,
    frameOf: (item: FeedItem, publicOnly: boolean) => {
      if (item.type === 'article') {
        if (item.id !== articleId) return null
        const withdrawn = item.action === 'article.deleted' || (publicOnly && item.data.status !== 'published')
        return withdrawn ? { text: `id: ${item.cursor}\nevent: coverage.withdrawn\ndata: ${JSON.stringify({ coverageId, reason: 'The story is no longer available' })}\n\n`, last: true } : null
      }
      if (item.data.coverageId !== coverageId) return null
      if (item.type === 'live-coverage') return { text: `id: ${item.cursor}\nevent: coverage.updated\ndata: ${JSON.stringify(item.data.coverage)}\n\n`, last: false }
      return { text: `id: ${item.cursor}\nevent: ${eventOf[item.action] ?? 'entry.updated'}\ndata: ${JSON.stringify(item.data.entry)}\n\n`, last: false }
    }
  }
}
