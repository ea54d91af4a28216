// The image file store the configuration names, open for the app's lifetime.
import fp from 'fastify-plugin'
import { filesystemStorage, openS3Storage, type ImageStorage } from '../images/storage.ts'

declare module 'fastify' {
  interface FastifyInstance {
    imageStorage: ImageStorage
  }
}

export default fp(async (app) => {
  const { config } = app
  const storage = config.imageStorage === 's3'
    ? await openS3Storage({
      bucket: config.s3Bucket,
      endpoint: config.s3Endpoint === '' ? undefined : config.s3Endpoint,
      region: config.s3Region,
      accessKeyId: config.s3AccessKeyId === '' ? undefined : config.s3AccessKeyId,
      secretAccessKey: config.s3SecretAccessKey === '' ? undefined : config.s3SecretAccessKey,
      forcePathStyle: config.s3ForcePathStyle,
      prefix: config.s3Prefix === '' ? undefined : config.s3Prefix
    })
    : filesystemStorage(config.imageDirectory)
  app.decorate('imageStorage', storage)
  app.addHook('onClose', async () => { await storage.close() })
}, { name: 'storage' })
