// The JSON body parser for application/json and application/merge-patch+json. Every later step
// that walks a body (Ajv, the surrogate check, the services) recurses, so a body nested thousands
// of levels deep would overflow the stack there and answer 500: its depth is measured here first,
// by one iterative pass over the raw text, and the body refused before anything recurses into it.
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

/** Installs the parser for both JSON media types, in place of Fastify's default. */
export function installJsonBodyParser (app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error')
  const parser: FastifyBodyParser<string> = (request, text, done) => {
    if (nestedDeeperThan(text, MAX_JSON_DEPTH)) {
      const message = `nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`
      done(withFieldErrors(errors.jsonTooDeep(`body ${message}`) as CatalogueError, [{ in: 'body', pointer: '', message }]), undefined)
      return
    }
    parse(request, text, done)
  }
  app.removeContentTypeParser(['application/json'])
  app.addContentTypeParser(['application/json', 'application/merge-patch+json'], { parseAs: 'string' }, parser)
}
