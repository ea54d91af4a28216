// Request validation. Bodies are checked strictly (a string is never coerced into a number);
// query strings, params and headers arrive as text, so there scalars are coerced. Both share the
// same options everywhere, tests included, because both are built here.
import { Ajv, type Options, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifySchemaCompiler, FastifySerializerCompiler } from 'fastify'
import fastJsonStringify from 'fast-json-stringify'

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
    // Compiled on first use, like the serializers below: most routes are never called in a given
    // process's life, and compiling all of them at start took a second and tens of megabytes.
    let compiled: ValidateFunction | undefined
    const validate = (data: unknown): boolean => {
      compiled ??= ajv.compile(schema as object)
      // No schema here is $async, so a compiled validator answers synchronously.
      const valid = compiled(data) as boolean
      validate.errors = compiled.errors
      return valid
    }
    validate.errors = null as ValidateFunction['errors']
    return validate
  }
}

/**
 * Response serializers (fast-json-stringify, as Fastify's default), compiled on a route's first
 * answer with that status instead of at start: each compilation validates and indexes every shared
 * schema again, and the hundreds of route × status pairs (most of them error answers rarely sent)
 * were half of the start-up time and a third of the memory at idle.
 */
export function buildSerializerCompiler (sharedSchemas: object[]): FastifySerializerCompiler<unknown> {
  const external: Record<string, object> = Object.fromEntries(sharedSchemas.map(schema => [(schema as { $id: string }).$id, schema]))
  return ({ schema }) => {
    let serialize: ((data: unknown) => string) | undefined
    return (data: unknown) => {
      if (serialize === undefined) {
        const id = (schema as { $id?: unknown }).$id
        // A shared schema used as a whole response must not be registered twice (Fastify's compiler does the same).
        const others = typeof id === 'string' && id in external ? Object.fromEntries(Object.entries(external).filter(([key]) => key !== id)) : external
        serialize = fastJsonStringify(schema as Parameters<typeof fastJsonStringify>[0], { schema: others as Record<string, Parameters<typeof fastJsonStringify>[0]> }) as (data: unknown) => string
      }
      return serialize(data)
    }
  }
}
