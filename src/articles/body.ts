// The article body: an ordered list of typed blocks. Inline text may carry a little markup
// (emphasis, links); it is sanitized on write, so stored text is already safe to render.
import { createRequire } from 'node:module'
import type SanitizeHtml from 'sanitize-html'
import type * as Entities from 'entities'
import { Type, type Static } from 'typebox'
import { HttpUrl, Line, StringEnum, Uuid } from '../common-schemas.ts'

// sanitize-html (with htmlparser2, postcss and entities) costs about 2 MB of heap: it is loaded on
// the first write or render that needs it, not at start. A synchronous require keeps these
// functions synchronous.
const require = createRequire(import.meta.url)
let loadedSanitizer: typeof SanitizeHtml | undefined
let loadedEntities: typeof Entities | undefined
const sanitizeHtml = (html: string, options: SanitizeHtml.IOptions): string =>
  (loadedSanitizer ??= require('sanitize-html') as typeof SanitizeHtml)(html, options)
const decodeHTML = (html: string): string => (loadedEntities ??= require('entities') as typeof Entities).decodeHTML(html)

const Inline = (maxLength: number) => Type.String({
  minLength: 1,
  maxLength,
  pattern: '^(?=[\\s\\S]*\\S)[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F]*$',
  description: 'Text; may contain <em>, <strong>, <i>, <b>, <s>, <sub>, <sup>, <code>, <br> and <a href> (http, https, mailto). Anything else is removed.'
})

/** Longest inline text per place, checked again after sanitizing (escaping can lengthen it). */
export const inlineLimits = { paragraph: 20000, heading: 500, blockquote: 5000, listItem: 5000 } as const

export const ParagraphBlock = Type.Object({ type: Type.Literal('paragraph'), text: Inline(inlineLimits.paragraph) }, { additionalProperties: false, title: 'ParagraphBlock' })
export const HeadingBlock = Type.Object({ type: Type.Literal('heading'), level: Type.Integer({ minimum: 2, maximum: 4 }), text: Inline(inlineLimits.heading) }, { additionalProperties: false, title: 'HeadingBlock' })
export const BlockquoteBlock = Type.Object({
  type: Type.Literal('blockquote'),
  text: Inline(inlineLimits.blockquote),
  attribution: Type.Optional(Line(300, { description: 'Who said it, e.g. "Russian senator Lyudmila Narusova"' }))
}, { additionalProperties: false, title: 'BlockquoteBlock' })
export const ImageBlock = Type.Object({
  type: Type.Literal('image'),
  imageId: Uuid,
  caption: Type.Optional(Line(2000, { description: 'Overrides the image\'s own caption here' }))
}, { additionalProperties: false, title: 'ImageBlock' })
export const EmbedBlock = Type.Object({
  type: Type.Literal('embed'),
  url: HttpUrl({ description: 'The embedded post, video or document' }),
  provider: Type.Optional(Line(100, { examples: ['YouTube'] })),
  caption: Type.Optional(Line(2000))
}, { additionalProperties: false, title: 'EmbedBlock' })
export const ListBlock = Type.Object({
  type: Type.Literal('list'),
  style: StringEnum(['bulleted', 'numbered']),
  items: Type.Array(Inline(inlineLimits.listItem), { minItems: 1, maxItems: 500 })
}, { additionalProperties: false, title: 'ListBlock' })
export const PromoBlock = Type.Object({
  type: Type.Literal('promo'),
  headline: Line(300, { minLength: 1, examples: ['Start your day with TPM.'] }),
  text: Type.Optional(Line(1000, { examples: ['Sign up for the Morning Memo newsletter'] })),
  url: Type.Optional(HttpUrl()),
  linkText: Type.Optional(Line(100, { examples: ['Sign up'] }))
}, { additionalProperties: false, title: 'PromoBlock' })

const blockSchemas = [ParagraphBlock, HeadingBlock, BlockquoteBlock, ImageBlock, EmbedBlock, ListBlock, PromoBlock]
// oneOf + discriminator (not TypeBox's anyOf), so a bad block is reported against its own type only.
export const BodyBlock = Type.Unsafe<Static<typeof ParagraphBlock> | Static<typeof HeadingBlock> | Static<typeof BlockquoteBlock> | Static<typeof ImageBlock> | Static<typeof EmbedBlock> | Static<typeof ListBlock> | Static<typeof PromoBlock>>({
  $id: 'BodyBlock',
  title: 'BodyBlock',
  description: 'One block of an article body, told apart by `type`',
  type: 'object',
  required: ['type'],
  oneOf: blockSchemas,
  examples: [{ type: 'paragraph', text: 'Russia has mandatory one year of military service for men.' }, { type: 'blockquote', text: 'Only four people were left alive out of a company of 100.', attribution: 'Russian senator Lyudmila Narusova' }],
  discriminator: { propertyName: 'type' }
})
export type BodyBlock = Static<typeof BodyBlock>
export const BodyBlockRef = Type.Unsafe<BodyBlock>({ $ref: 'BodyBlock#' })
export const Body = Type.Array(BodyBlockRef, { maxItems: 2000, description: 'The ordered body blocks' })

const inlineOptions: SanitizeHtml.IOptions = {
  allowedTags: ['a', 'em', 'strong', 'i', 'b', 's', 'sub', 'sup', 'code', 'br'],
  allowedAttributes: { a: ['href'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard'
}

// Control characters can come back from entities (&#1;); they are never text.
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g

function sanitizeInline (text: string): string {
  return sanitizeHtml(text, inlineOptions).replace(CONTROL_CHARACTERS, '')
}

export function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}

function plainInline (html: string): string {
  return decodeHTML(sanitizeHtml(html.replace(/<br\s*\/?>/gi, ' '), { allowedTags: [], allowedAttributes: {} }))
}

/** Sanitizes every inline text; the result is what gets stored. */
export function sanitizeBody (blocks: BodyBlock[]): BodyBlock[] {
  return blocks.map((block) => {
    switch (block.type) {
      case 'paragraph':
      case 'heading':
      case 'blockquote':
        return { ...block, text: sanitizeInline(block.text) }
      case 'list':
        return { ...block, items: block.items.map(sanitizeInline) }
      default:
        return block
    }
  })
}

/**
 * Sanitized inline texts that are unusable: empty (a paragraph that only held a <script>) or, once
 * escaped, longer than the schema allows (so what the API returns can always be sent back).
 */
export function unusableInlineTexts (blocks: BodyBlock[]): Array<{ pointer: string, message: string }> {
  const problems: Array<{ pointer: string, message: string }> = []
  const check = (text: string, limit: number, pointer: string): void => {
    if (plainInline(text).trim() === '') problems.push({ pointer, message: 'has no text once unsafe markup is removed' })
    else if (text.length > limit) problems.push({ pointer, message: `is longer than ${limit} characters once escaped` })
  }
  blocks.forEach((block, index) => {
    if (block.type === 'paragraph') check(block.text, inlineLimits.paragraph, `/body/${index}/text`)
    if (block.type === 'heading') check(block.text, inlineLimits.heading, `/body/${index}/text`)
    if (block.type === 'blockquote') check(block.text, inlineLimits.blockquote, `/body/${index}/text`)
    if (block.type === 'list') block.items.forEach((item, itemIndex) => { check(item, inlineLimits.listItem, `/body/${index}/items/${itemIndex}`) })
  })
  return problems
}

export function imageIdsOf (blocks: BodyBlock[]): string[] {
  return [...new Set(blocks.flatMap((block) => block.type === 'image' ? [block.imageId] : []))]
}

/** The body as plain text, one block per paragraph: for search, previews and word counts. */
export function bodyToText (blocks: BodyBlock[]): string {
  return blocks.flatMap((block) => {
    switch (block.type) {
      case 'paragraph':
      case 'heading':
        return [plainInline(block.text)]
      case 'blockquote':
        return [plainInline(block.text) + (block.attribution !== undefined ? ` — ${block.attribution}` : '')]
      case 'list':
        return block.items.map(plainInline)
      default:
        return []
    }
  }).join('\n\n')
}

export function countWords (text: string): number {
  // \u2019 is the typographic apostrophe (won’t); written escaped, the compiled server stays ASCII (half the memory for its source).
  const words = text.match(/[\p{L}\p{N}]+(?:['\u2019\-.][\p{L}\p{N}]+)*/gu)
  return words === null ? 0 : words.length
}

/** Minutes at 230 words a minute, at least one for any text. */
export function readingTimeMinutes (wordCount: number): number {
  return wordCount === 0 ? 0 : Math.max(1, Math.round(wordCount / 230))
}

export interface RenderableImage {
  url: string
  altText: string
  /** Rendered with alt="" whatever its alt text, so screen readers skip it. */
  decorative: boolean
  width: number | null
  height: number | null
  caption: string | null
  credit: string | null
}

/** Renders stored (already sanitized) blocks as HTML; everything not inline markup is escaped. */
export function bodyToHtml (blocks: BodyBlock[], images: Map<string, RenderableImage>): string {
  return blocks.map((block) => {
    switch (block.type) {
      case 'paragraph':
        return `<p>${block.text}</p>`
      case 'heading':
        return `<h${block.level}>${block.text}</h${block.level}>`
      case 'blockquote':
        return `<blockquote><p>${block.text}</p>${block.attribution !== undefined ? `<footer>— <cite>${escapeHtml(block.attribution)}</cite></footer>` : ''}</blockquote>`
      case 'list': {
        const tag = block.style === 'numbered' ? 'ol' : 'ul'
        return `<${tag}>${block.items.map((item) => `<li>${item}</li>`).join('')}</${tag}>`
      }
      case 'image': {
        const image = images.get(block.imageId)
        if (image === undefined) return ''
        const caption = block.caption ?? image.caption
        const size = image.width !== null && image.height !== null ? ` width="${image.width}" height="${image.height}"` : ''
        const captionHtml = [caption !== null ? escapeHtml(caption) : '', image.credit !== null ? `<small class="credit">${escapeHtml(image.credit)}</small>` : ''].filter(Boolean).join(' ')
        return `<figure><img src="${escapeHtml(image.url)}" alt="${image.decorative ? '' : escapeHtml(image.altText)}"${size} loading="lazy">${captionHtml !== '' ? `<figcaption>${captionHtml}</figcaption>` : ''}</figure>`
      }
      case 'embed':
        return `<figure class="embed"><a href="${escapeHtml(block.url)}" rel="noopener noreferrer">${escapeHtml(block.provider ?? block.url)}</a>${block.caption !== undefined ? `<figcaption>${escapeHtml(block.caption)}</figcaption>` : ''}</figure>`
      case 'promo':
        return `<aside class="promo"><p class="promo-headline">${escapeHtml(block.headline)}</p>${block.text !== undefined ? `<p>${escapeHtml(block.text)}</p>` : ''}${block.url !== undefined ? `<a href="${escapeHtml(block.url)}">${escapeHtml(block.linkText ?? block.text ?? block.headline)}</a>` : ''}</aside>`
      default:
        return ''
    }
  }).join('\n')
}
