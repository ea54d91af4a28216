// The typed client (clients/typescript): its generated files match the document the app builds, its
// README example compiles under strict tsc without casts, and runs against a real server.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { buildDocument, documentPath, renderDocument, renderSchema, schemaPath } from '../clients/typescript/scripts/generation.ts'
import { main } from '../clients/typescript/examples/publish.ts'
import { createCopydeskClient, CopydeskError, items, pages, unwrap, versioned, VersionMismatchError, type PagePosition } from '../clients/typescript/src/index.ts'
import { adminKey, buildTestApp } from './helper.ts'

const clientDirectory = fileURLToPath(new URL('../clients/typescript/', import.meta.url))
const examplePath = fileURLToPath(new URL('../clients/typescript/examples/publish.ts', import.meta.url))

/** Where two texts first differ, as "line N: committed … / generated …", for a readable failure. */
function firstDifference (committed: string, generated: string): string {
  const a = committed.split('\n')
  const b = generated.split('\n')
  const line = a.findIndex((text, index) => text !== b[index])
  const at = line === -1 ? a.length : line
  return `line ${at + 1}: committed ${JSON.stringify(a[at] ?? '(end)')}, generated ${JSON.stringify(b[at] ?? '(end)')}`
}

/** Where two JSON values first differ, as a path (`$.paths./articles.post…`), for a readable failure. */
function firstJsonDifference (committed: unknown, generated: unknown, path = '$'): string | undefined {
  if (typeof committed !== 'object' || typeof generated !== 'object' || committed === null || generated === null || Array.isArray(committed) !== Array.isArray(generated)) {
    return JSON.stringify(committed) === JSON.stringify(generated) ? undefined : `${path}: committed ${JSON.stringify(committed)?.slice(0, 200)}, generated ${JSON.stringify(generated)?.slice(0, 200)}`
  }
  const a = committed as Record<string, unknown>
  const b = generated as Record<string, unknown>
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const difference = firstJsonDifference(a[key], b[key], `${path}.${key}`)
    if (difference !== undefined) return difference
  }
  return undefined
}

t.test('the committed client is generated from the OpenAPI document the app builds', async (t) => {
  const document = await buildDocument()
  const hint = 'the OpenAPI document changed: run `npm run client:generate` and commit clients/typescript'
  const committedDocument = readFileSync(documentPath, 'utf8')
  const generatedDocument = renderDocument(document)
  t.ok(committedDocument === generatedDocument, `clients/typescript/openapi.json is current (${hint})`, {
    difference: committedDocument === generatedDocument ? undefined : firstJsonDifference(JSON.parse(committedDocument), JSON.parse(generatedDocument)) ?? 'the same JSON, written differently'
  })
  const committedSchema = readFileSync(schemaPath, 'utf8')
  const generatedSchema = await renderSchema(document)
  t.ok(committedSchema === generatedSchema, `clients/typescript/src/schema.ts is current (${hint})`, {
    difference: committedSchema === generatedSchema ? undefined : firstDifference(committedSchema, generatedSchema)
  })
})

t.test('the client and its example compile under strict tsc, and the example has no casts', async (t) => {
  const configPath = ts.findConfigFile(clientDirectory, ts.sys.fileExists.bind(ts.sys))
  if (configPath === undefined) throw new Error('clients/typescript/tsconfig.json is missing')
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })
  if (parsed === undefined) throw new Error('clients/typescript/tsconfig.json does not parse')
  t.equal(parsed.options.strict, true, 'strict mode')
  t.ok(parsed.fileNames.includes(examplePath), 'the example is part of the client project')
  const program = ts.createProgram(parsed.fileNames, parsed.options)
  const diagnostics = ts.getPreEmitDiagnostics(program).map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n').slice(0, 400) +
    (diagnostic.file === undefined ? '' : ` (${diagnostic.file.fileName}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line + 1})`))
  t.same(diagnostics, [], 'no type errors')

  const example = program.getSourceFile(examplePath)
  if (example === undefined) throw new Error('the example is not in the program')
  const casts: string[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isAsExpression(node) || ts.isTypeAssertionExpression(node) || ts.isNonNullExpression(node) || ts.isSatisfiesExpression(node) ||
      node.kind === ts.SyntaxKind.AnyKeyword) {
      casts.push(`line ${example.getLineAndCharacterOfPosition(node.getStart()).line + 1}: ${node.getText()}`)
    }
    ts.forEachChild(node, visit)
  }
  visit(example)
  t.same(casts, [], 'no `as`, `!`, `satisfies` or `any` in the example')
})

t.test('the README shows the example as it is in clients/typescript/examples/publish.ts', async (t) => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  t.ok(readme.includes(readFileSync(examplePath, 'utf8')), 'README.md contains the example file verbatim')
})

t.test('against a real server', async (t) => {
  const app = await buildTestApp(t)
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' })

  t.test('the example publishes an article that the public can read by slug', async (t) => {
    const article = await main(baseUrl, adminKey)
    t.equal(article.status, 'published')
    t.equal(article.headline, 'Storm Closes Coastal Highway')
    t.same(article.body.map((block) => block.type), ['paragraph', 'heading', 'list'])
    const response = await fetch(`${baseUrl}/articles/slug/${article.slug}`)
    t.equal(response.status, 200, 'readable by slug without a key')
  })

  t.test('a refused request is a CopydeskError with the problem\'s status, code and detail', async (t) => {
    const reader = createCopydeskClient({ baseUrl })
    const missing = await reader.readArticle('019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11').catch((error: unknown) => error)
    t.ok(missing instanceof CopydeskError)
    t.match(missing, { status: 404, code: 'ARTICLE_NOT_FOUND', detail: String, problem: { code: 'ARTICLE_NOT_FOUND' } })
    const anonymousWrite = await unwrap(reader.api.POST('/authors', { body: { name: 'Nobody' } })).catch((error: unknown) => error)
    t.match(anonymousWrite, { status: 401, code: 'AUTHENTICATION_REQUIRED' })
  })

  t.test('an edit based on a stale read is refused with VersionMismatchError (412)', async (t) => {
    const copydesk = createCopydeskClient({ baseUrl, apiKey: adminKey })
    const first = await versioned(copydesk.api.POST('/articles', { body: { headline: 'Two Editors', body: [{ type: 'paragraph', text: 'Text.' }] } }))
    const edited = await copydesk.updateArticle(first, { dek: 'The first edit' })
    t.not(edited.etag, first.etag, 'the edit answers with the new ETag')
    const stale = await copydesk.updateArticle(first, { dek: 'A second edit from the old read' }).catch((error: unknown) => error)
    t.ok(stale instanceof VersionMismatchError)
    t.match(stale, { status: 412, code: 'VERSION_MISMATCH', currentVersion: edited.value.version })
    const again = await copydesk.updateArticle(await copydesk.readArticle(first.value.id), { dek: 'Reapplied' })
    t.equal(again.value.dek, 'Reapplied', 'a fresh read edits')
    await copydesk.deleteArticle(again)
    t.match(await copydesk.readArticle(first.value.id).catch((error: unknown) => error), { status: 404 })
  })

  t.test('pages and items follow numbered pages, keyset cursors and the change feed', async (t) => {
    const copydesk = createCopydeskClient({ baseUrl, apiKey: adminKey })
    for (const name of ['Page One', 'Page Two', 'Page Three', 'Page Four', 'Page Five']) {
      await unwrap(copydesk.api.POST('/authors', { body: { name } }))
    }
    const authorPages: number[] = []
    for await (const page of pages((position) => copydesk.api.GET('/authors', { params: { query: { limit: 2, ...position } } }))) {
      authorPages.push(page.items.length)
    }
    t.ok(authorPages.length >= 3, `numbered pages: ${authorPages.join(', ')}`)
    const authorNames: string[] = []
    for await (const author of items((position) => copydesk.api.GET('/authors', { params: { query: { limit: 2, ...position } } }))) {
      authorNames.push(author.name)
    }
    t.equal(new Set(authorNames).size, authorNames.length, 'no author twice')
    t.ok(authorNames.includes('Page Five'))

    for (const headline of ['Cursor One', 'Cursor Two', 'Cursor Three']) {
      const draft = await versioned(copydesk.api.POST('/articles', { body: { headline, body: [{ type: 'paragraph', text: 'Text.' }] } }))
      await copydesk.updateArticle(draft, { status: 'published' })
    }
    const reader = createCopydeskClient({ baseUrl })
    let cursorPages = 0
    const headlines: string[] = []
    const articlePositions: PagePosition[] = []
    const articlePage = async (position: PagePosition) => {
      articlePositions.push(position)
      return await reader.api.GET('/articles', { params: { query: { limit: 2, ...position } } })
    }
    for await (const page of pages(articlePage)) {
      cursorPages++
      for (const article of page.items) headlines.push(article.headline)
    }
    t.ok(cursorPages >= 2, `${cursorPages} article pages`)
    t.ok(['Cursor One', 'Cursor Two', 'Cursor Three'].every((headline) => headlines.includes(headline)), 'every published article, once')
    t.equal(new Set(headlines).size, headlines.length)
    t.ok(articlePositions.slice(1).every((position) => typeof position.cursor === 'string' && position.page === undefined), 'articles: by nextCursor')

    const changeTypes: string[] = []
    const changePositions: PagePosition[] = []
    const changePage = async (position: PagePosition) => {
      changePositions.push(position)
      return await copydesk.api.GET('/changes', { params: { query: { limit: 5, ...position } } })
    }
    for await (const change of items(changePage)) {
      changeTypes.push(change.type)
    }
    t.ok(changeTypes.length > 5, `${changeTypes.length} changes over several pages`)
    t.ok(changePositions.slice(1).every((position) => typeof position.after === 'string'), 'changes: by next')
  })
})
