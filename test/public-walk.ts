// Walks every keyless GET of the OpenAPI document with the ids and slugs of one article and what it
// shows (its author, images, section, tag) in the path, and reports what each answer reveals of the
// article: used by the embargo, kill and pending-revision tests to show what an article leaks where.
import type { FastifyInstance } from 'fastify'
import { anonymous, createArticle, createAuthor, createImage, injectMaybeEndless, isEventStream, json, post } from './helper.ts'

export interface Subject {
  article: { id: string, slug: string, headline: string }
  authorId: string
  authorSlug: string
  imageIds: string[]
  sectionId: string
  sectionSlug: string
  tagId: string
  tagSlug: string
  /** A valid preview token for the article (the one way partners read an embargoed story). */
  previewToken: string
  /** A word of the headline that search finds it by. */
  searchWord: string
}

export interface Answer {
  operationId: string
  url: string
  status: number
  contentType: string
  /** The answer's body and headers, as a reader gets them. */
  text: string
  body: string
}

const publicGets = (document: any): Array<{ path: string, operation: any }> => // eslint-disable-line @typescript-eslint/no-explicit-any -- plain JSON
  Object.entries<any>(document.paths).flatMap(([path, item]) => // eslint-disable-line @typescript-eslint/no-explicit-any -- plain JSON
    item.get?.['x-copydesk-access'] === 'public' ? [{ path, operation: item.get }] : [])

/** Every keyless GET, each image-bearing path once per image. */
export async function walkPublicGets (app: FastifyInstance, subject: Subject): Promise<Answer[]> {
  const document = json(await app.inject({ method: 'GET', url: '/openapi.json', headers: anonymous }))
  const answers: Answer[] = []
  for (const { path, operation } of publicGets(document)) {
    const variants = path.startsWith('/images/') ? subject.imageIds : [null]
    for (const imageId of variants) {
      const url = path.replace(/\{(\w+)\}/g, (_: string, name: string): string => {
        if (path.startsWith('/images/')) return imageId as string
        if (path.startsWith('/authors/')) return name === 'slug' ? subject.authorSlug : subject.authorId
        if (path.startsWith('/sections/')) return name === 'slug' ? subject.sectionSlug : subject.sectionId
        if (path.startsWith('/tags/')) return name === 'slug' ? subject.tagSlug : subject.tagId
        const values: Record<string, string> = { id: subject.article.id, slug: subject.article.slug, token: subject.previewToken, version: '1', n: '1' }
        return values[name] ?? '1'
      })
      const query = path === '/search' ? `?q=${subject.searchWord}` : path.startsWith('/changes') ? '?after=0' : ''
      const request = { method: 'GET' as const, url: `${url}${query}`, headers: anonymous }
      const response = isEventStream(operation) ? await injectMaybeEndless(app, request) : await app.inject(request)
      const contentType = String(response.headers['content-type'] ?? '')
      answers.push({
        operationId: operation.operationId,
        url: request.url,
        status: response.statusCode,
        contentType,
        text: `${JSON.stringify(response.headers)}\n${contentType.startsWith('image/') ? '' : response.body}`,
        body: contentType.startsWith('image/') ? '' : response.body
      })
    }
  }
  return answers
}

/** A new key's secret, for tests about who may do what. */
export async function keyFor (app: FastifyInstance, role: string, authorId?: string): Promise<string> {
  const response = await post(app, '/keys', { name: `${role} key`, role, ...(authorId === undefined ? {} : { authorId }) })
  if (response.statusCode !== 201) throw new Error(response.body)
  return json(response).secret
}

/**
 * A published story with its own author, lead and body images, section and tag. `beforePublishing`
 * runs on it while it is still a draft (an embargo, say); without it the story is created published.
 */
export async function publishedStory (app: FastifyInstance, headline: string, beforePublishing?: (id: string) => Promise<void>): Promise<Subject> {
  const author = await createAuthor(app, { name: 'Kim Lowell' })
  const lead = await createImage(app, { url: 'https://images.example.com/lead.jpg', caption: 'Lead photo' })
  const inBody = await createImage(app, { url: 'https://images.example.com/body.jpg', caption: 'Body photo' })
  const section = json(await post(app, '/sections', { name: 'Courts' }))
  const tag = json(await post(app, '/tags', { name: 'Injunctions' }))
  const article = await createArticle(app, {
    headline,
    ...(beforePublishing === undefined ? { status: 'published' } : {}),
    leadImageId: lead.id,
    sectionId: section.id,
    tagIds: [tag.id],
    bylines: [{ authorId: author.id }],
    body: [{ type: 'paragraph', text: 'Zanzibarian details of the case.' }, { type: 'image', imageId: inBody.id }]
  })
  if (beforePublishing !== undefined) {
    await beforePublishing(article.id)
    const published = await app.inject({ method: 'PATCH', url: `/articles/${article.id as string}`, payload: { status: 'published' } })
    if (published.statusCode !== 200) throw new Error(published.body)
  }
  const previewToken = json(await app.inject({ method: 'POST', url: `/articles/${article.id as string}/preview-link` })).token
  return {
    article: { id: article.id, slug: article.slug, headline },
    authorId: author.id,
    authorSlug: author.slug,
    imageIds: [lead.id, inBody.id],
    sectionId: section.id,
    sectionSlug: section.slug,
    tagId: tag.id,
    tagSlug: tag.slug,
    previewToken,
    searchWord: 'zanzibarian'
  }
}
