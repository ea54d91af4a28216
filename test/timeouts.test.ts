// Slow and stalled clients are cut off at the configured HEADERS_TIMEOUT_MS and REQUEST_TIMEOUT_MS
// (issue 17), not up to 30 s later when Node next looks at its connections.
import t from 'tap'
import { connect, type Socket } from 'node:net'
import { adminKey, buildTestApp } from './helper.ts'

async function listeningApp (t: { teardown: (fn: () => unknown) => void }): Promise<number> {
  const app = await buildTestApp(t, { backgroundJobs: false, headersTimeoutMs: 1000, requestTimeoutMs: 2000, changeStreamHeartbeatMs: 500 })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return (app.server.address() as { port: number }).port
}

/** Opens a connection and resolves, once the server closes it, with what it answered and after how long. */
async function untilClosed (port: number, send: (socket: Socket) => void): Promise<{ answer: string, seconds: number }> {
  const socket = connect(port, '127.0.0.1')
  await new Promise((resolve) => socket.once('connect', resolve))
  const started = performance.now()
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => { resolve() }))
  send(socket)
  await closed
  return { answer: Buffer.concat(chunks).toString(), seconds: (performance.now() - started) / 1000 }
}

t.test('a connection stalled in its headers is answered 408 and closed at HEADERS_TIMEOUT_MS', async (t) => {
  const port = await listeningApp(t)
  const { answer, seconds } = await untilClosed(port, (socket) => { socket.write('GET /health HTTP/1.1\r\nHost: loc') })
  t.ok(seconds >= 0.9 && seconds < 2.5, `closed after ${seconds.toFixed(2)} s (configured: 1 s)`)
  t.match(answer, /^HTTP\/1\.1 408 /)
  t.match(answer, /content-type: application\/problem\+json/i)
  const problem = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))
  t.match(problem, { status: 408, code: 'REQUEST_TIMEOUT' })
  t.equal(problem.instance, undefined, 'no instance: the request never said which')
})

t.test('a body that keeps trickling in is answered 408 at REQUEST_TIMEOUT_MS', async (t) => {
  const port = await listeningApp(t)
  let trickle: NodeJS.Timeout | undefined
  t.teardown(() => { clearInterval(trickle) })
  const { answer, seconds } = await untilClosed(port, (socket) => {
    socket.write(`POST /authors HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${adminKey}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":"`)
    // A byte every 200 ms: never idle, never done.
    trickle = setInterval(() => { if (socket.writable) socket.write('a') }, 200)
  })
  clearInterval(trickle)
  t.ok(seconds >= 1.9 && seconds < 3.5, `closed after ${seconds.toFixed(2)} s (configured: 2 s)`)
  t.match(answer, /^HTTP\/1\.1 408 /)
  t.match(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)), { status: 408, code: 'REQUEST_TIMEOUT', instance: '/authors' }, 'the problem names the request it is about')
})

t.test('requests that arrive in time are unaffected by the short timeouts', async (t) => {
  const port = await listeningApp(t)
  const response = await fetch(`http://127.0.0.1:${port}/health`)
  t.equal(response.status, 200)
})
