// Where webhooks may be sent. A receiver is anywhere on the internet, never the server's own
// network: loopback, private, link-local (cloud metadata at 169.254.169.254), multicast and
// unspecified addresses, and IPv6 forms that lead back to them, are refused, at registration for
// addresses written into the URL and at send time for whatever a name resolves to. The dispatcher
// then connects to the very address it checked (a name resolving differently a moment later
// changes nothing). WEBHOOK_ALLOWED_INTERNAL lets chosen internal receivers through.
import { BlockList, isIP } from 'node:net'
import { lookup } from 'node:dns/promises'
import type { LookupAddress } from 'node:dns'

const INTERNAL_V4: Array<[string, number, string]> = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'private (shared address space)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved (benchmarking)'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved']
]
const INTERNAL_V6: Array<[string, number, string]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::', 96, 'IPv4-compatible'],
  ['::ffff:0:0', 96, 'IPv4-mapped'],
  ['64:ff9b::', 96, 'IPv4-translated (NAT64)'],
  ['fc00::', 7, 'private (unique local)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast']
]

/** What kind of internal address this is ("loopback", "private", ...), or null for a public one. */
export function internalKindOf (address: string): string | null {
  const family = isIP(address)
  if (family === 0) return null
  for (const [network, prefix, kind] of family === 4 ? INTERNAL_V4 : INTERNAL_V6) {
    const list = new BlockList()
    list.addSubnet(network, prefix, family === 4 ? 'ipv4' : 'ipv6')
    if (list.check(address, family === 4 ? 'ipv4' : 'ipv6')) return kind
  }
  return null
}

/** A URL's host without IPv6 brackets or a trailing dot, lower case. */
function hostOf (url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase()
}

/** Thrown at send time for a target that may not be reached; its message is the delivery's lastError. */
export class RefusedTarget extends Error {
  constructor (reason: string) {
    super(`not sent: ${reason}`)
    this.name = 'RefusedTarget'
  }
}

export interface TargetPolicy {
  /** Why the URL may not be registered (its host is an internal address or "localhost"), or null. */
  refusalAtRegistration: (url: string) => string | null
  /**
   * Resolves the URL's host and returns the address to connect to, or throws with the reason
   * when any address it resolves to is internal and not allowed.
   */
  addressToSend: (url: URL) => Promise<LookupAddress>
}

/** Parses WEBHOOK_ALLOWED_INTERNAL: comma-separated host names, addresses and CIDR ranges. */
export function targetPolicy (allowedInternal: string): TargetPolicy {
  const allowedHosts = new Set<string>()
  const allowedRanges = new BlockList()
  for (const entry of allowedInternal.split(',').map((part) => part.trim().toLowerCase()).filter(Boolean)) {
    const [network = '', prefix] = entry.split('/')
    const family = isIP(network)
    if (family === 0) allowedHosts.add(entry.replace(/\.$/, ''))
    else allowedRanges.addSubnet(network, prefix === undefined ? (family === 4 ? 32 : 128) : Number(prefix), family === 4 ? 'ipv4' : 'ipv6')
  }
  const refusal = (host: string, address: string): string | null => {
    const kind = internalKindOf(address)
    if (kind === null || allowedHosts.has(host) || allowedRanges.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6')) return null
    return `${address === host ? host : `${host} resolves to ${address}, which`} is internal (${kind}); webhooks are not sent to internal addresses unless WEBHOOK_ALLOWED_INTERNAL names them`
  }
  return {
    refusalAtRegistration (url) {
      const host = hostOf(new URL(url))
      if (isIP(host) !== 0) return refusal(host, host)
      if ((host === 'localhost' || host.endsWith('.localhost')) && !allowedHosts.has(host)) return `${host} is internal (a loopback name); webhooks are not sent to internal addresses unless WEBHOOK_ALLOWED_INTERNAL names them`
      return null
    },
    async addressToSend (url) {
      const host = hostOf(url)
      const family = isIP(host)
      const addresses = family !== 0 ? [{ address: host, family }] : await lookup(host, { all: true, verbatim: true })
      for (const { address } of addresses) {
        const refused = refusal(host, address)
        if (refused !== null) throw new RefusedTarget(refused)
      }
      const first = addresses[0]
      if (first === undefined) throw new RefusedTarget(`${host} resolves to no address`)
      return first
    }
  }
}

/** Checks WEBHOOK_ALLOWED_INTERNAL's syntax; returns a problem or null. */
export function allowedInternalProblem (allowedInternal: string): string | null {
  for (const entry of allowedInternal.split(',').map((part) => part.trim()).filter(Boolean)) {
    const [network = '', prefix, extra] = entry.split('/')
    const family = isIP(network)
    if (family === 0 && prefix === undefined && /^[A-Za-z0-9.-]+$/.test(entry)) continue
    const bits = Number(prefix ?? (family === 4 ? 32 : 128))
    if (family === 0 || extra !== undefined || (prefix !== undefined && !/^\d+$/.test(prefix)) || bits > (family === 4 ? 32 : 128)) return `${JSON.stringify(entry)} is neither a host name, an IP address nor a CIDR range`
  }
  return null
}
