// `npm run key:create -- --role admin --name ops [--author <author id or slug>]`: creates an API key
// in the database DATABASE_URL names and prints it, once. Works without any existing key.
import { parseArgs } from 'node:util'
import { loadConfig } from '../config.ts'
import { openForWrites } from '../changes/open.ts'
import { problemOf, type CatalogueError } from '../errors.ts'
import { roles, systemActor, type Role } from './roles.ts'
import { createOne } from './service.ts'

const usage = 'usage: npm run key:create -- --role admin|editor|writer --name "<who or what uses it>" [--author <author id or slug, required for writers>]'
const { values } = parseArgs({ options: { role: { type: 'string' }, name: { type: 'string' }, author: { type: 'string' } }, strict: true })
if (values.name === undefined || values.name.trim() === '' || !roles.includes(values.role as Role)) {
  console.error(usage)
  process.exit(2)
}

const { prisma } = await openForWrites(loadConfig(), (message) => { console.log(message) })
try {
  let authorId: string | null = null
  if (values.author !== undefined) {
    const author = await prisma.author.findFirst({ where: { OR: [{ id: values.author }, { slug: values.author }] }, select: { id: true } })
    if (author === null) throw new Error(`No author has the id or slug "${values.author}"`)
    authorId = author.id
  }
  const key = await createOne(prisma, { name: values.name.trim(), role: values.role as Role, authorId }, systemActor('command line'))
  console.log(`Created ${key.role} key "${key.name}" (id ${key.id}). It is shown this once; store it now:\n${key.secret}`)
} catch (error) {
  const message = (error as CatalogueError).statusCode !== undefined ? problemOf(error as CatalogueError, { url: '/keys' } as never).detail : (error as Error).message
  console.error(`No key was created: ${message}`)
  process.exitCode = 1
} finally {
  await prisma.$disconnect()
}
