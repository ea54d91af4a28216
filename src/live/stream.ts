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

export const liveChangeTypes = ['live-entry', 'live-coverage'] as const

export function coverageAudience (coverageId: string): Audience {
  return {
    key: `live:${coverageId}`,
    frameOf: (item: FeedItem) => {
      if (item.data.coverageId !== coverageId) return null
      if (item.type === 'live-coverage') return `id: ${item.cursor}\nevent: coverage.updated\ndata: ${JSON.stringify(item.data.coverage)}\n\n`
      return `id: ${item.cursor}\nevent: ${eventOf[item.action] ?? 'entry.updated'}\ndata: ${JSON.stringify(item.data.entry)}\n\n`
    }
  }
}
