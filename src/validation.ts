// Request validation. Bodies are checked strictly (a string is never coerced into a number);
// query strings, params and headers arrive as text, so there scalars are coerced. Both share the
// same options everywhere, tests included, because both are built here.
import { Ajv, type Options } from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifySchemaCompiler } from 'fastify'

const baseOptions: Options = {
  allErrors: true, // every invalid field in one answer; arrays and strings are bounded by the schemas
  removeAdditional: false, // unknown properties are an error, not silently dropped
  useDefaults: true,
  strict: false,
  discriminator: true
}

// RFC 3339 as ajv-formats reads it, narrowed to instants JavaScript and both databases can hold:
// no leap seconds (Date cannot represent them) and years 1 to 9999 once in UTC.
const ajvDateTime = addFormats.default.get('date-time') as unknown as { validate: (value: string) => boolean }
export function isStorableDateTime (value: string): boolean {
  if (!ajvDateTime.validate(value)) return false
  const instant = new Date(value)
  if (Number.isNaN(instant.getTime())) return false
  const year = instant.getUTCFullYear()
  return year >= 1 && year <= 9999
}

/**
 * An absolute http(s) URL with a host, as WHATWG URL parsing (browsers, fetch, the feed library)
 * reads it. RFC 3986 alone lets through "https://:x/y", which has no host and which `new URL`
 * refuses: stored, it would make every feed that links to it fail.
 */
export function isHttpUrl (value: string): boolean {
  if (!/^https?:\/\/\S+$/i.test(value) || !URL.canParse(value)) return false
  const url = new URL(value)
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== ''
}

const ajvUri = addFormats.default.get('uri') as unknown as (value: string) => boolean

function buildAjv (coerceTypes: Options['coerceTypes'], sharedSchemas: object[]): Ajv {
  const ajv = new Ajv({ ...baseOptions, coerceTypes })
  addFormats.default(ajv)
  ajv.addFormat('date-time', { type: 'string', validate: isStorableDateTime })
  // Every `uri` this API accepts is a link others follow (HttpUrl in common-schemas.ts).
  ajv.addFormat('uri', { type: 'string', validate: (value: string) => ajvUri(value) && isHttpUrl(value) })
  for (const schema of sharedSchemas) ajv.addSchema(schema)
  return ajv
}

/**
 * The JSON Pointer of the first string holding an unpaired UTF-16 surrogate ("\ud800"), or null.
 * JSON allows them, but they are not Unicode text: PostgreSQL refuses them and SQLite mangles them.
 */
export function illFormedStringPointer (value: unknown, pointer = ''): string | null {
  if (typeof value === 'string') return value.isWellFormed() ? null : pointer
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = illFormedStringPointer(value[index], `${pointer}/${index}`)
      if (found !== null) return found
    }
  } else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      const keyPointer = `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`
      if (!key.isWellFormed()) return keyPointer
      const found = illFormedStringPointer(item, keyPointer)
      if (found !== null) return found
    }
  }
  return null
}

/** Parsed JSON, not a stream or a buffer (raw uploads arrive as streams, with cycles inside). */
function isPlainObject (value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

export function buildValidatorCompiler (sharedSchemas: object[]): FastifySchemaCompiler<unknown> {
  const strictAjv = buildAjv(false, sharedSchemas)
  const coercingAjv = buildAjv('array', sharedSchemas)
  return ({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? strictAjv : coercingAjv
    return ajv.compile(schema as object)
  }
}
