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

function buildAjv (coerceTypes: Options['coerceTypes'], sharedSchemas: object[]): Ajv {
  const ajv = new Ajv({ ...baseOptions, coerceTypes })
  addFormats.default(ajv)
  for (const schema of sharedSchemas) ajv.addSchema(schema)
  return ajv
}

export function buildValidatorCompiler (sharedSchemas: object[]): FastifySchemaCompiler<unknown> {
  const strictAjv = buildAjv(false, sharedSchemas)
  const coercingAjv = buildAjv('array', sharedSchemas)
  return ({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? strictAjv : coercingAjv
    return ajv.compile(schema as object)
  }
}
