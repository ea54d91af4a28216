// The load generator, in a process of its own: in the benchmark's process it would share a heap
// (100,000 seeded articles) and a garbage collector with the seeding, and cap both measurements.
import autocannon from 'autocannon'

const [url, connections, seconds] = process.argv.slice(2)
const result = await autocannon({ url: url as string, connections: Number(connections), duration: Number(seconds), pipelining: 1 })
process.send?.({ rps: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors })
