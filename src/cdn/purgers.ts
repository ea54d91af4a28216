// The CDN purgers, each speaking its provider's documented API, and each knowing how many keys fit
// in one request. They only send: what to purge, when, and what to do about a failure is decided
// by ./dispatcher.ts, which also gives each call its deadline (the signal). A non-2xx answer, an
// unreadable one, a network error or a timeout is a failure.
// - Varnish (src/cdn/varnish.vcl): `PURGE <url>/` with `xkey-purge: <keys>` to every instance in
//   VARNISH_PURGE_URLS; `xkey-purge: *` bans everything.
// - Fastly: `POST /service/{id}/purge` with the keys in a `Surrogate-Key` header (at most 256 a
//   request), `POST /service/{id}/purge_all` for everything; authenticated with `Fastly-Key`.
// - Cloudflare: `POST /zones/{id}/purge_cache` with `{"tags": [...]}` (at most 100 a request) or
//   `{"purge_everything": true}`, a bearer token, and `success` in the answer.
import { purgersOf, type Config } from '../config.ts'
import { PURGE_EVERYTHING } from '../changes/effects.ts'

export type PurgerName = 'varnish' | 'fastly' | 'cloudflare'
export { PURGE_EVERYTHING }

export interface Purger {
  name: PurgerName
  /** Where each purge is sent; it is done when every target took it (Varnish: each instance). */
  targets: readonly string[]
  /** The keys in batches of what one request may carry, in order. */
  batches: (keys: readonly string[]) => string[][]
  purgeKeys: (target: string, keys: readonly string[], signal: AbortSignal) => Promise<void>
  purgeAll: (target: string, signal: AbortSignal) => Promise<void>
}

// Varnish refuses a request header line longer than http_req_hdr_len (8 KB by default).
const VARNISH_HEADER_BYTES = 7_900
// Fastly: "Up to 256 surrogate keys can be purged in one batch request."
const FASTLY_KEYS_PER_REQUEST = 256
// Cloudflare: at most 100 tags (operations) per purge request, on every plan.
const CLOUDFLARE_TAGS_PER_REQUEST = 100

export class PurgeFailure extends Error {
  override name = 'PurgeFailure'
}

/** The purgers CDN_PURGERS names, set up from their settings (checked by loadConfig). */
export function purgersFrom (config: Config): Purger[] {
  return purgersOf(config).map((name) => {
    if (name === 'varnish') return varnish(config.varnishPurgeUrls.split(','))
    if (name === 'fastly') return fastly(config.fastlyApiUrl, config.fastlyServiceId, config.fastlyApiToken)
    if (name === 'cloudflare') {
      return cloudflare(config.cloudflareApiUrl, config.cloudflareZoneId, config.cloudflareApiToken)
    }
    throw new Error(`Unknown CDN purger ${name}`)
  })
}

export function varnish (urls: readonly string[]): Purger {
  const purge = async (target: string, value: string, signal: AbortSignal): Promise<void> => {
    const url = `${target.replace(/\/+$/, '')}/`
    const response = await send(url, { method: 'PURGE', headers: { 'xkey-purge': value } }, signal)
    await response.body?.cancel()
  }
  return {
    name: 'varnish',
    targets: urls,
    batches: (keys) => batchesBy(keys, (batch, key) => batch.join(' ').length + 1 + key.length <= VARNISH_HEADER_BYTES),
    purgeKeys: async (target, keys, signal) => { await purge(target, keys.join(' '), signal) },
    purgeAll: async (target, signal) => { await purge(target, PURGE_EVERYTHING, signal) }
  }
}

export function fastly (apiUrl: string, serviceId: string, token: string): Purger {
  const service = `${apiUrl}/service/${encodeURIComponent(serviceId)}`
  const post = async (url: string, headers: Record<string, string>, signal: AbortSignal): Promise<void> => {
    const init = { method: 'POST', headers: { 'fastly-key': token, accept: 'application/json', ...headers } }
    const response = await send(url, init, signal)
    await response.body?.cancel()
  }
  return {
    name: 'fastly',
    targets: [apiUrl],
    batches: (keys) => batchesBy(keys, (batch) => batch.length < FASTLY_KEYS_PER_REQUEST),
    purgeKeys: async (_target, keys, signal) => {
      await post(`${service}/purge`, { 'surrogate-key': keys.join(' ') }, signal)
    },
    purgeAll: async (_target, signal) => { await post(`${service}/purge_all`, {}, signal) }
  }
}

export function cloudflare (apiUrl: string, zoneId: string, token: string): Purger {
  const url = `${apiUrl}/zones/${encodeURIComponent(zoneId)}/purge_cache`
  const post = async (body: object, signal: AbortSignal): Promise<void> => {
    const response = await send(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body)
    }, signal)
    let answer: { success?: unknown, errors?: Array<{ code?: unknown, message?: unknown }> }
    try {
      answer = await response.json() as typeof answer
    } catch {
      throw new PurgeFailure(`answered ${response.status} with a body that is not JSON`)
    }
    if (answer.success !== true) {
      const reasons = (answer.errors ?? []).map((error) => `${String(error.code)} ${String(error.message)}`).join('; ')
      throw new PurgeFailure(`answered ${response.status} without success${reasons === '' ? '' : `: ${reasons}`}`)
    }
  }
  return {
    name: 'cloudflare',
    targets: [apiUrl],
    batches: (keys) => batchesBy(keys, (batch) => batch.length < CLOUDFLARE_TAGS_PER_REQUEST),
    purgeKeys: async (_target, keys, signal) => { await post({ tags: keys }, signal) },
    purgeAll: async (_target, signal) => { await post({ purge_everything: true }, signal) }
  }
}

/** Keys in order, a new batch whenever `fits` says the next key would not fit the current one. */
function batchesBy (keys: readonly string[], fits: (batch: string[], key: string) => boolean): string[][] {
  const batches: string[][] = []
  let batch: string[] = []
  for (const key of keys) {
    if (batch.length > 0 && !fits(batch, key)) {
      batches.push(batch)
      batch = []
    }
    batch.push(key)
  }
  if (batch.length > 0) batches.push(batch)
  return batches
}

/** One request; a non-2xx answer throws (Cloudflare's JSON is read above). */
async function send (url: string, init: RequestInit, signal: AbortSignal): Promise<Response> {
  const response = await fetch(url, { ...init, redirect: 'manual', signal })
  if (response.status >= 200 && response.status < 300) return response
  const text = await response.text().catch(() => '')
  throw new PurgeFailure(`answered ${response.status}${text.trim() === '' ? '' : `: ${text.trim().slice(0, 200)}`}`)
}
