// The JSON body parser for application/json and application/merge-patch+json. Every later step
// that walks a body (Ajv, the surrogate check, the services) recurses, so a body nested thousands
// of levels deep would overflow the stack there and answer 500: its depth is measured here first,
// by one iterative pass over the raw text, and the body refused before anything recurses into it.
// Bodies are UTF-8, as RFC 8259 requires: bytes that are not UTF-8 are refused rather than stored
// as U+FFFD, and a body declared in another charset is refused rather than misread.
import type { FastifyBodyParser, FastifyInstance } from 'fastify'
import { errors, withFieldErrors, type CatalogueError } from './errors.ts'

/**
 * The deepest nesting of arrays and objects a body may have. The deepest document this API
 * accepts (an article body block inside the body list) is under ten levels; 64 leaves room while
 * keeping every recursive walk shallow.
 */
export const MAX_JSON_DEPTH = 64

const OPEN_BRACE = 0x7b
const OPEN_BRACKET = 0x5b
const CLOSE_BRACE = 0x7d
const CLOSE_BRACKET = 0x5d
const QUOTE = 0x22
const BACKSLASH = 0x5c

/**
 * True when `text` (JSON or not) opens more than `limit` arrays or objects at once, counting only
 * brackets outside strings. Malformed text is left to JSON.parse to refuse.
 */
export function nestedDeeperThan (text: string, limit: number): boolean {
  let depth = 0
  let inString = false
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index)
    if (inString) {
      if (char === BACKSLASH) index++
      else if (char === QUOTE) inString = false
    } else if (char === QUOTE) {
      inString = true
    } else if (char === OPEN_BRACE || char === OPEN_BRACKET) {
      if (++depth > limit) return true
    } else if (char === CLOSE_BRACE || char === CLOSE_BRACKET) {
      depth--
    }
  }
  return false
}

/** The charset parameter of a Content-Type, lowercased and unquoted, or null when there is none. */
export function charsetOf (contentType: string | undefined): string | null {
  const match = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType ?? '')
  return match === null ? null : (match[1] ?? match[2] ?? '').toLowerCase()
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Installs the parser for both JSON media types, in place of Fastify's default. */
export function installJsonBodyParser (app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error')
  const parser: FastifyBodyParser<Buffer> = (request, body, done) => {
    const charset = charsetOf(request.headers['content-type'])
    if (charset !== null && charset !== 'utf-8' && charset !== 'utf8') {
      done(errors.unsupportedMediaType(`JSON bodies are UTF-8; charset=${charset.slice(0, 40)} is not supported`) as CatalogueError, undefined)
      return
    }
    let text: string
    try {
      text = utf8.decode(body)
    } catch {
      done(errors.invalidUtf8('The body is not valid UTF-8') as CatalogueError, undefined)
      return
    }
    if (nestedDeeperThan(text, MAX_JSON_DEPTH)) {
      const message = `nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`
      done(withFieldErrors(errors.jsonTooDeep(`body ${message}`) as CatalogueError, [{ in: 'body', pointer: '', message }]), undefined)
      return
    }
    parse(request, text, done)
  }
  app.removeContentTypeParser(['application/json'])
  app.addContentTypeParser(['application/json', 'application/merge-patch+json'], { parseAs: 'buffer' }, parser)
}
