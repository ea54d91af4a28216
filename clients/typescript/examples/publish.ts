// Create an author, write an article with body blocks, publish it with If-Match, read it by slug.
import { createCopydeskClient, unwrap, versioned, VersionMismatchError, type Article } from '../src/index.ts'

export async function main (baseUrl: string, apiKey: string): Promise<Article> {
  const copydesk = createCopydeskClient({ baseUrl, apiKey })

  const author = await unwrap(copydesk.api.POST('/authors', {
    body: { name: 'Jordan Vale', jobTitle: 'Photographer' }
  }))

  // versioned() keeps the ETag the server sent: the version this edit is based on.
  const draft = await versioned(copydesk.api.POST('/articles', {
    body: {
      headline: 'Storm Closes Coastal Highway',
      bylines: [{ authorId: author.id, role: 'photos' }],
      body: [
        { type: 'paragraph', text: 'The highway was <em>closed</em> on Tuesday.' },
        { type: 'heading', level: 2, text: 'Detours' },
        { type: 'list', style: 'bulleted', items: ['Route 9 north', 'The old coast road'] }
      ]
    }
  }))

  try {
    await copydesk.updateArticle(draft, { status: 'published' })
  } catch (error) {
    // Someone edited the draft after we read it: their change is kept, ours is refused.
    if (error instanceof VersionMismatchError) console.error(`Changed meanwhile (now version ${error.currentVersion})`)
    throw error
  }

  // Readers need no key.
  const reader = createCopydeskClient({ baseUrl })
  const { value: article } = await reader.readArticleBySlug(draft.value.slug)
  console.log(`${article.headline}: ${article.status}, by ${article.bylines.map((byline) => byline.author.name).join(', ')}`)
  return article
}
