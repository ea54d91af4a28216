// The public read model's readers (src/read-model/reads.ts), open for the app's lifetime.
import fp from 'fastify-plugin'
import { openPublicReads, type PublicReads } from '../read-model/reads.ts'

declare module 'fastify' {
  interface FastifyInstance {
    publicReads: PublicReads
  }
}

export default fp(async (app) => {
  const reads = openPublicReads(app.config, app.dbProvider, app.log)
  app.decorate('publicReads', reads)
  app.addHook('onClose', async () => { await reads.close() })
}, { name: 'read-model', dependencies: ['database'] })
