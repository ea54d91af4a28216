// The load generator, in a process of its own: in the benchmark's process it would share a heap
// (100,000 seeded articles) and a garbage collector with the seeding, and cap both measurements.
import autocannon from 'autocannon'
import { readFileSync } from 'node:fs'

// A fourth argument names a file of paths (one a line): each connection cycles through them.
const [url, connections, seconds, pathsFile] = process.argv.slice(2)
const requests = pathsFile === undefined ? undefined : readFileSync(pathsFile, 'utf8').split('\n').filter(Boolean).map((path) => ({ method: 'GET' as const, path }))
const result = await autocannon({ url: url as string, connections: Number(connections), duration: Number(seconds), pipelining: 1, requests })
process.send?.({ rps: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors })
