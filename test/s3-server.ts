// A real S3-protocol server for tests: s3rver, installed from npm, on a free port.
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// s3rver ships no type declarations; this is the part of its API the tests use.
interface S3rverInstance { run: () => Promise<AddressInfo>, close: () => Promise<void> }
type S3rverClass = new (options: { port: number, address: string, silent: boolean, directory: string, configureBuckets: Array<{ name: string, configs: Array<string | Buffer> }> }) => S3rverInstance
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass

export interface S3Server { endpoint: string, bucket: string, close: () => Promise<void> }

/** Its credentials are s3rver's fixed S3RVER / S3RVER. Close it after the clients that use it. */
export async function startS3Server (bucket = 'copydesk-test'): Promise<S3Server> {
  const directory = mkdtempSync(join(tmpdir(), 'copydesk-s3rver-'))
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] })
  const { port } = await server.run()
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    close: async () => {
      await server.close()
      rmSync(directory, { recursive: true, force: true })
    }
  }
}
