// npm run client:generate: writes clients/typescript/openapi.json and src/schema.ts from the app.
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { buildDocument, documentPath, renderDocument, renderSchema, schemaPath } from './generation.ts'

const document = await buildDocument()
writeFileSync(documentPath, renderDocument(document))
writeFileSync(schemaPath, await renderSchema(document))
console.log(`Wrote ${fileURLToPath(documentPath)} and ${fileURLToPath(schemaPath)}`)
