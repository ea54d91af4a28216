// The public read model's readers (src/read-model/reads.ts), open for the app's lifetime, and the
// one step of rendering the live path shares with it.
import fp from 'fastify-plugin'
import { openPublicReads, type PublicReads } from '../read-model/reads.ts'
import { withAbsoluteImageUrls } from '../delivery/site.ts'

declare module 'fastify' {
  interface FastifyInstance {
    publicReads: PublicReads
  }
}

export default fp(async (app) => {
  const reads = await openPublicReads(app.config, app.dbProvider, app.log, app.newestContentGeneration)
  app.decorate('publicReads', reads)
  app.addHook('onClose', async () => { await reads.close() })
  // Stored documents carry absolute image URLs (API_PUBLIC_URL); every live response gets the same,
  // so staff and public reads send the same bytes, and so do images, authors, search and lists.
  const imageBase = app.config.apiPublicUrl
  if (imageBase !== '') app.addHook('preSerialization', async (_request, _reply, payload) => withAbsoluteImageUrls(payload, imageBase))
}, { name: 'read-model', dependencies: ['database', 'http-cache'] })
