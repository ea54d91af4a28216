// `npm run readmodel:rebuild`: renders every published article's public documents again, from the
// articles themselves, and drops every instance's cached responses (through the change log). Safe
// while servers run: each article is rendered in a transaction of its batch, as a write would.
import { loadConfig } from '../config.ts'
import { openForWrites, renderContextOf } from '../changes/open.ts'
import { rebuildReadModel } from '../read-model/articles.ts'

const config = loadConfig()
const { prisma } = await openForWrites(config, (message) => { console.log(message) })
try {
  const started = Date.now()
  const count = await rebuildReadModel(prisma, renderContextOf(config), (done, total) => {
    process.stdout.write(`\rrendered ${done} of ${total} published articles`)
  })
  console.log(`\nread model rebuilt: ${count} documents written or dropped in ${((Date.now() - started) / 1000).toFixed(1)} s`)
} finally {
  await prisma.$disconnect()
}
