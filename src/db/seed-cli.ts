// `npm run db:seed`: loads the demo content into the database DATABASE_URL names (migrating it
// first). A database that already has content is left as it is.
import { loadConfig } from '../config.ts'
import { openForWrites } from '../changes/open.ts'
import { isEmpty, seedDemoContent } from './seed.ts'

const { prisma } = await openForWrites(loadConfig(), (message) => { console.log(message) })
try {
  if (!await isEmpty(prisma)) {
    console.log('The database already has content; nothing was seeded.')
  } else {
    const summary = await seedDemoContent(prisma)
    console.log(`Seeded ${summary.articles} articles, ${summary.authors} authors, ${summary.images} images, ${summary.sections} sections, ${summary.tags} tags and ${summary.roles} masthead roles.`)
  }
} finally {
  await prisma.$disconnect()
}
