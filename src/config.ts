// Every setting in one schema: the TypeScript type is derived from it and the environment is
// checked against it at start-up, so a typo in a variable fails loudly instead of silently.
import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'
import { allowedInternalProblem } from './webhooks/targets.ts'
import { isHttpUrl } from './validation.ts'
import { deskSettingsProblems } from './articles/desk.ts'

const LogLevel = Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])

/** A Cache-Control value: directives such as "public, max-age=60, stale-while-revalidate=300". */
const CacheControl = Type.String({ minLength: 1, maxLength: 500, pattern: '^[a-z-]+(=\\d+)?(, ?[a-z-]+(=\\d+)?)*$' })

export const ConfigSchema = Type.Object({
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  host: Type.String({ minLength: 1 }),
  databaseUrl: Type.String({ minLength: 1 }),
  logLevel: LogLevel,
  /** Seed demo content when the server starts on an empty database. */
  seedDemoContent: Type.Boolean(),
  /** Largest accepted request body, in bytes. */
  bodyLimit: Type.Integer({ minimum: 1024 }),
  /** Milliseconds a SQLite write waits for a lock before failing. */
  sqliteBusyTimeoutMs: Type.Integer({ minimum: 0 }),
  /** PostgreSQL: connections in this instance's pool. */
  databasePoolSize: Type.Integer({ minimum: 1, maximum: 1000 }),
  /** PostgreSQL: a statement running longer than this is cancelled (0 = no limit). */
  databaseStatementTimeoutMs: Type.Integer({ minimum: 0 }),
  /** PostgreSQL: how long to wait for a connection before giving up. */
  databaseConnectTimeoutMs: Type.Integer({ minimum: 100 }),
  /** How many more times to try reaching the database at start-up, with doubling waits (0 = fail at once). */
  databaseConnectRetries: Type.Integer({ minimum: 0, maximum: 20 }),
  /** PostgreSQL read replicas for keyless public reads: comma-separated postgres:// URLs (empty: none). */
  databaseReadUrl: Type.String({ maxLength: 10_000 }),
  /** A replica whose replay is further behind than this is skipped until it catches up. */
  databaseReadMaxLagMs: Type.Integer({ minimum: 0, maximum: 3_600_000 }),
  /** How often each replica's reachability and lag are checked. */
  databaseReadCheckIntervalMs: Type.Integer({ minimum: 50, maximum: 60_000 }),
  /** Refuse article edits that carry no If-Match with 428, instead of accepting them. */
  requireIfMatch: Type.Boolean(),
  /** Edit leases: "enforced" refuses others' writes while a lease is held (423); "advisory" only shows who holds it. */
  articleLeases: Type.Enum(['enforced', 'advisory']),
  /** How long a lease lasts unless its holder renews it (the editor's heartbeat). */
  articleLeaseTtlSeconds: Type.Integer({ minimum: 10, maximum: 86_400 }),
  /** How far back GET /articles/{id}/presence lists staff who read the article. */
  presenceWindowSeconds: Type.Integer({ minimum: 10, maximum: 86_400 }),
  /** The sign-offs there are, each with the least role that may give it: "copy:editor,legal:editor". */
  signoffKinds: Type.String({ maxLength: 2000, pattern: '^[a-z][a-z0-9-]{0,39}:(writer|editor|admin)(,[a-z][a-z0-9-]{0,39}:(writer|editor|admin))*$' }),
  /** The sign-offs an article needs, of its current content, before it is published or scheduled (empty: none). */
  requiredSignoffs: Type.String({ maxLength: 2000, pattern: '^([a-z][a-z0-9-]{0,39}(,[a-z][a-z0-9-]{0,39})*)?$' }),
  /** Preflight rule levels, overriding the defaults: "alt-text:error,image-credit:warning" (levels error, warning, off). */
  preflightRules: Type.String({ maxLength: 2000, pattern: '^([a-z-]+:(error|warning|off)(,[a-z-]+:(error|warning|off))*)?$' }),
  /** The headline and dek lengths preflight accepts, in characters: "min-max". */
  preflightHeadlineLength: Type.String({ pattern: '^\\d{1,4}-\\d{1,4}$' }),
  preflightDekLength: Type.String({ pattern: '^\\d{1,4}-\\d{1,4}$' }),
  /** Run the scheduler and the webhook sender in this instance. */
  backgroundJobs: Type.Boolean(),
  schedulerIntervalMs: Type.Integer({ minimum: 50 }),
  webhookPollIntervalMs: Type.Integer({ minimum: 50 }),
  /** The first retry waits this long; each further one twice as long (at most an hour). */
  webhookRetryBaseMs: Type.Integer({ minimum: 10 }),
  webhookMaxAttempts: Type.Integer({ minimum: 1, maximum: 50 }),
  webhookTimeoutMs: Type.Integer({ minimum: 100, maximum: 120_000 }),
  /** Internal receivers webhooks may reach anyway: comma-separated host names, addresses and CIDR ranges. */
  webhookAllowedInternal: Type.String(),
  /** Makes sure an admin key with exactly this secret exists (automation, tests); empty: none. */
  bootstrapKey: Type.Union([Type.Literal(''), Type.String({ minLength: 32, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })]),
  /** Writes per key per minute (0 = unlimited). */
  writeRateLimit: Type.Integer({ minimum: 0 }),
  /** Reads per client address per minute (0 = unlimited). */
  readRateLimit: Type.Integer({ minimum: 0 }),
  /** Failed authentications per client address per 15 minutes before that address is refused (0 = unlimited). */
  authFailureLimit: Type.Integer({ minimum: 0 }),
  /** Where rate-limit counters live: "database" shares them between instances; "auto" picks it on PostgreSQL. */
  rateLimitStore: Type.Enum(['auto', 'memory', 'database']),
  /**
   * Behind a load balancer: which hops may set X-Forwarded-For. "false" (none), a number of hops,
   * or comma-separated addresses/CIDRs of the proxies; "true" trusts any sender (avoid: clients
   * could then pick their own address and dodge per-address limits).
   */
  trustProxy: Type.String({ maxLength: 2000, pattern: '^(true|false|\\d{1,2}|[0-9A-Fa-f:.,/ ]+)$' }),
  /** Origins allowed to call the API from a browser: comma-separated, "*" for any, empty for none. */
  corsOrigins: Type.String({ maxLength: 4000 }),
  /** How long a preview link stays valid unless its request asks for less. */
  previewLinkTtlSeconds: Type.Integer({ minimum: 60, maximum: 30 * 86400 }),
  /** Cache-Control for public (keyless) reads, per group of routes; staff responses are always private, no-store. */
  cacheControlArticles: CacheControl,
  cacheControlAuthors: CacheControl,
  cacheControlImages: CacheControl,
  cacheControlMasthead: CacheControl,
  cacheControlFeeds: CacheControl,
  /** The public website: feeds, sitemaps and structured data link to its pages; empty: to this API's own reads. */
  siteUrl: Type.String({ pattern: '^(https?://[^\\s/?#]+(/[^\\s?#]*[^\\s?#/])?)?$', maxLength: 500 }),
  siteName: Type.String({ minLength: 1, maxLength: 200 }),
  /** BCP 47 language of the publication, e.g. "en" or "en-US" (Google News wants it). */
  siteLanguage: Type.String({ pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$' }),
  siteLogoUrl: Type.String({ maxLength: 1000, pattern: '^(https?://\\S+)?$' }),
  /** Where an article or author page lives on the website: {slug} is replaced. */
  articlePath: Type.String({ pattern: '^/\\S*\\{slug\\}\\S*$', maxLength: 200 }),
  authorPath: Type.String({ pattern: '^/\\S*\\{slug\\}\\S*$', maxLength: 200 }),
  /** Slugs no article or author may have, comma-separated: words a website routes itself ("/new", "/feed"). */
  reservedSlugs: Type.String({ maxLength: 10_000, pattern: '^([a-z0-9]+(-[a-z0-9]+)*(,[a-z0-9]+(-[a-z0-9]+)*)*)?$' }),
  /** Public address of this API: image URLs in responses are made absolute with it; feeds fall back to siteUrl, then HOST and PORT. */
  apiPublicUrl: Type.String({ pattern: '^(https?://[^\\s/?#]+(/[^\\s?#]*[^\\s?#/])?)?$', maxLength: 500 }),
  /** URLs per sitemap file; beyond it /sitemap.xml becomes a sitemap index (the protocol allows 50,000). */
  sitemapPageSize: Type.Integer({ minimum: 1, maximum: 50_000 }),
  /** How many of the newest matches search ranks by relevance; older ones follow, newest first. */
  searchRankWindow: Type.Integer({ minimum: 10, maximum: 1_000_000 }),
  /** Which header carries purge keys: Surrogate-Key (Fastly, Varnish) or Cache-Tag (Cloudflare, Akamai). */
  purgeKeyHeader: Type.Enum(['surrogate-key', 'cache-tag']),
  /** Memory for public responses kept ready to serve until the next write (0 = off). */
  responseCacheMb: Type.Integer({ minimum: 0, maximum: 4096 }),
  /** Where uploaded image files live: the local folder below, or S3-compatible object storage. */
  imageStorage: Type.Enum(['filesystem', 's3']),
  imageDirectory: Type.String({ minLength: 1 }),
  s3Bucket: Type.String(),
  /** Empty for AWS itself; the URL of any S3-compatible service otherwise (MinIO, R2, …). */
  s3Endpoint: Type.String(),
  s3Region: Type.String({ minLength: 1 }),
  s3AccessKeyId: Type.String(),
  s3SecretAccessKey: Type.String(),
  s3ForcePathStyle: Type.Boolean(),
  s3Prefix: Type.String({ pattern: '^([a-z0-9][a-z0-9._-]*/)*$' }),
  /** Largest accepted upload. */
  imageMaxUploadBytes: Type.Integer({ minimum: 1024, maximum: 500 * 1024 * 1024 }),
  /** Largest accepted picture, in pixels (width × height): decompression bombs stop here. */
  imageMaxPixels: Type.Integer({ minimum: 10_000, maximum: 500_000_000 }),
  /** Images decoded at once, by uploads and renditions together (0 = 2–4, by the processor's cores). */
  imageProcessingConcurrency: Type.Integer({ minimum: 0, maximum: 64 }),
  /** Uploads taken in beyond those decoding, waiting their turn; one more is refused at once with 503 and Retry-After. */
  uploadQueueLimit: Type.Integer({ minimum: 0, maximum: 10_000 }),
  /** Different renditions not yet stored that may be in the making at once; one more is refused with 503 and Retry-After. */
  renditionQueueLimit: Type.Integer({ minimum: 1, maximum: 10_000 }),
  /** The widths renditions come in, comma-separated; a requested width is rounded up to one of them. */
  imageWidths: Type.String({ pattern: '^\\d{2,5}(,\\d{2,5}){0,29}$' }),
  /** How long the change feed keeps changes; an older cursor is told to resync (410). */
  changesRetentionDays: Type.Integer({ minimum: 1, maximum: 3650 }),
  /** How often each instance looks for new changes to stream to its subscribers (all instances share the log). */
  changeStreamPollMs: Type.Integer({ minimum: 20, maximum: 60_000 }),
  /** A comment line to every stream subscriber this often, so proxies keep idle streams open. */
  changeStreamHeartbeatMs: Type.Integer({ minimum: 100, maximum: 300_000 }),
  /** Bytes a stream subscriber may fall behind by before it is dropped (it resumes with Last-Event-ID). */
  changeStreamMaxBufferBytes: Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024 }),
  /** Stream subscribers one instance accepts; beyond them, 503. */
  changeStreamMaxSubscribers: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  /** CDN purgers, comma-separated: varnish, fastly, cloudflare (empty: none). */
  cdnPurgers: Type.String({ maxLength: 100, pattern: '^((varnish|fastly|cloudflare)(,(varnish|fastly|cloudflare))*)?$' }),
  cdnPurgeIntervalMs: Type.Integer({ minimum: 20, maximum: 60_000 }),
  /** Varnish instances to send PURGE requests with an xkey-purge header to: comma-separated base URLs. */
  varnishPurgeUrls: Type.String({ maxLength: 4000, pattern: '^(https?://[^\\s,]+(,https?://[^\\s,]+)*)?$' }),
  fastlyServiceId: Type.String({ maxLength: 100 }),
  fastlyApiToken: Type.String({ maxLength: 500 }),
  fastlyApiUrl: Type.String({ pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*[^\\s?#/])?$', maxLength: 500 }),
  cloudflareZoneId: Type.String({ maxLength: 100 }),
  cloudflareApiToken: Type.String({ maxLength: 500 }),
  cloudflareApiUrl: Type.String({ pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*[^\\s?#/])?$', maxLength: 500 }),
  /** Milliseconds allowed for a whole request, and for its headers, before the server answers 408 and gives up on the client (0 = no limit). */
  requestTimeoutMs: Type.Integer({ minimum: 0 }),
  headersTimeoutMs: Type.Integer({ minimum: 0 }),
  keepAliveTimeoutMs: Type.Integer({ minimum: 0 }),
  /**
   * On SIGTERM, how long the instance goes on serving (answering /ready 503 and closing each
   * connection after its answer) before it stops listening: load balancers and keep-alive clients
   * move away instead of having requests cut.
   */
  shutdownDrainMs: Type.Integer({ minimum: 0, maximum: 60_000 })
})
export type Config = Static<typeof ConfigSchema>

export const defaultConfig: Config = {
  port: 3000,
  host: '127.0.0.1',
  databaseUrl: 'file:./data/copydesk.db',
  logLevel: 'info',
  seedDemoContent: true,
  bodyLimit: 1024 * 1024,
  sqliteBusyTimeoutMs: 5000,
  databasePoolSize: 10,
  databaseStatementTimeoutMs: 15_000,
  databaseConnectTimeoutMs: 5000,
  databaseConnectRetries: 0,
  databaseReadUrl: '',
  databaseReadMaxLagMs: 5000,
  databaseReadCheckIntervalMs: 1000,
  requireIfMatch: false,
  articleLeases: 'enforced',
  articleLeaseTtlSeconds: 120,
  presenceWindowSeconds: 300,
  signoffKinds: 'copy:editor,legal:editor',
  requiredSignoffs: '',
  preflightRules: '',
  preflightHeadlineLength: '10-120',
  preflightDekLength: '0-300',
  backgroundJobs: true,
  schedulerIntervalMs: 1000,
  webhookPollIntervalMs: 250,
  webhookRetryBaseMs: 5000,
  webhookMaxAttempts: 10,
  webhookTimeoutMs: 10_000,
  webhookAllowedInternal: '',
  bootstrapKey: '',
  writeRateLimit: 600,
  readRateLimit: 6000,
  authFailureLimit: 20,
  rateLimitStore: 'auto',
  trustProxy: 'false',
  corsOrigins: '',
  previewLinkTtlSeconds: 86400,
  cacheControlArticles: 'public, max-age=60, stale-while-revalidate=300, stale-if-error=86400',
  cacheControlAuthors: 'public, max-age=300, stale-while-revalidate=600, stale-if-error=86400',
  cacheControlImages: 'public, max-age=300, stale-while-revalidate=600, stale-if-error=86400',
  cacheControlMasthead: 'public, max-age=600, stale-while-revalidate=3600, stale-if-error=86400',
  cacheControlFeeds: 'public, max-age=300, stale-while-revalidate=600, stale-if-error=86400',
  responseCacheMb: 64,
  purgeKeyHeader: 'surrogate-key',
  siteUrl: '',
  siteName: 'Copydesk',
  siteLanguage: 'en',
  siteLogoUrl: '',
  articlePath: '/articles/{slug}',
  authorPath: '/authors/{slug}',
  reservedSlugs: 'admin,api,app,archive,assets,atom,articles,authors,category,edit,embed,feed,feeds,graphql,health,images,index,' +
    'latest,login,logout,new,none,null,page,preview,ready,robots,rss,search,sections,sitemap,static,tag,tags,undefined,www',
  apiPublicUrl: '',
  sitemapPageSize: 50_000,
  searchRankWindow: 1000,
  imageStorage: 'filesystem',
  imageDirectory: './data/images',
  s3Bucket: '',
  s3Endpoint: '',
  s3Region: 'us-east-1',
  s3AccessKeyId: '',
  s3SecretAccessKey: '',
  s3ForcePathStyle: false,
  s3Prefix: '',
  imageMaxUploadBytes: 25 * 1024 * 1024,
  imageMaxPixels: 50_000_000,
  imageProcessingConcurrency: 0,
  uploadQueueLimit: 8,
  renditionQueueLimit: 32,
  imageWidths: '160,320,480,640,800,1024,1280,1600,2048',
  changesRetentionDays: 14,
  changeStreamPollMs: 250,
  changeStreamHeartbeatMs: 15_000,
  changeStreamMaxBufferBytes: 1024 * 1024,
  changeStreamMaxSubscribers: 20_000,
  cdnPurgers: '',
  cdnPurgeIntervalMs: 250,
  varnishPurgeUrls: '',
  fastlyServiceId: '',
  fastlyApiToken: '',
  fastlyApiUrl: 'https://api.fastly.com',
  cloudflareZoneId: '',
  cloudflareApiToken: '',
  cloudflareApiUrl: 'https://api.cloudflare.com/client/v4',
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5000,
  shutdownDrainMs: 1000
}

/** The slugs articles and authors may not have (RESERVED_SLUGS). */
export function reservedSlugsOf (config: Pick<Config, 'reservedSlugs'>): ReadonlySet<string> {
  return new Set(config.reservedSlugs === '' ? [] : config.reservedSlugs.split(','))
}

/** The reserved slugs of the default configuration, for callers without one (seed, benchmarks). */
export const defaultReservedSlugs = reservedSlugsOf(defaultConfig)

/** The CDN purgers a public change is sent to (CDN_PURGERS). */
export function purgersOf (config: Config): string[] {
  return config.cdnPurgers === '' ? [] : [...new Set(config.cdnPurgers.split(','))]
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

const environmentNames: Record<keyof Config, string> = {
  port: 'PORT',
  host: 'HOST',
  databaseUrl: 'DATABASE_URL',
  logLevel: 'LOG_LEVEL',
  seedDemoContent: 'SEED_DEMO_CONTENT',
  bodyLimit: 'BODY_LIMIT_BYTES',
  sqliteBusyTimeoutMs: 'SQLITE_BUSY_TIMEOUT_MS',
  databasePoolSize: 'DATABASE_POOL_SIZE',
  databaseStatementTimeoutMs: 'DATABASE_STATEMENT_TIMEOUT_MS',
  databaseConnectTimeoutMs: 'DATABASE_CONNECT_TIMEOUT_MS',
  databaseConnectRetries: 'DATABASE_CONNECT_RETRIES',
  databaseReadUrl: 'DATABASE_READ_URL',
  databaseReadMaxLagMs: 'DATABASE_READ_MAX_LAG_MS',
  databaseReadCheckIntervalMs: 'DATABASE_READ_CHECK_INTERVAL_MS',
  requireIfMatch: 'REQUIRE_IF_MATCH',
  articleLeases: 'ARTICLE_LEASES',
  articleLeaseTtlSeconds: 'ARTICLE_LEASE_TTL_SECONDS',
  presenceWindowSeconds: 'PRESENCE_WINDOW_SECONDS',
  signoffKinds: 'SIGNOFF_KINDS',
  requiredSignoffs: 'REQUIRED_SIGNOFFS',
  preflightRules: 'PREFLIGHT_RULES',
  preflightHeadlineLength: 'PREFLIGHT_HEADLINE_LENGTH',
  preflightDekLength: 'PREFLIGHT_DEK_LENGTH',
  backgroundJobs: 'BACKGROUND_JOBS',
  schedulerIntervalMs: 'SCHEDULER_INTERVAL_MS',
  webhookPollIntervalMs: 'WEBHOOK_POLL_INTERVAL_MS',
  webhookRetryBaseMs: 'WEBHOOK_RETRY_BASE_MS',
  webhookMaxAttempts: 'WEBHOOK_MAX_ATTEMPTS',
  webhookTimeoutMs: 'WEBHOOK_TIMEOUT_MS',
  webhookAllowedInternal: 'WEBHOOK_ALLOWED_INTERNAL',
  bootstrapKey: 'COPYDESK_BOOTSTRAP_KEY',
  writeRateLimit: 'WRITE_RATE_LIMIT',
  readRateLimit: 'READ_RATE_LIMIT',
  authFailureLimit: 'AUTH_FAILURE_LIMIT',
  rateLimitStore: 'RATE_LIMIT_STORE',
  trustProxy: 'TRUST_PROXY',
  corsOrigins: 'CORS_ORIGINS',
  previewLinkTtlSeconds: 'PREVIEW_LINK_TTL_SECONDS',
  cacheControlArticles: 'CACHE_CONTROL_ARTICLES',
  cacheControlAuthors: 'CACHE_CONTROL_AUTHORS',
  cacheControlImages: 'CACHE_CONTROL_IMAGES',
  cacheControlMasthead: 'CACHE_CONTROL_MASTHEAD',
  cacheControlFeeds: 'CACHE_CONTROL_FEEDS',
  responseCacheMb: 'RESPONSE_CACHE_MB',
  purgeKeyHeader: 'PURGE_KEY_HEADER',
  siteUrl: 'SITE_URL',
  siteName: 'SITE_NAME',
  siteLanguage: 'SITE_LANGUAGE',
  siteLogoUrl: 'SITE_LOGO_URL',
  articlePath: 'ARTICLE_PATH',
  authorPath: 'AUTHOR_PATH',
  reservedSlugs: 'RESERVED_SLUGS',
  apiPublicUrl: 'API_PUBLIC_URL',
  sitemapPageSize: 'SITEMAP_PAGE_SIZE',
  searchRankWindow: 'SEARCH_RANK_WINDOW',
  imageStorage: 'IMAGE_STORAGE',
  imageDirectory: 'IMAGE_DIRECTORY',
  s3Bucket: 'S3_BUCKET',
  s3Endpoint: 'S3_ENDPOINT',
  s3Region: 'S3_REGION',
  s3AccessKeyId: 'S3_ACCESS_KEY_ID',
  s3SecretAccessKey: 'S3_SECRET_ACCESS_KEY',
  s3ForcePathStyle: 'S3_FORCE_PATH_STYLE',
  s3Prefix: 'S3_PREFIX',
  imageMaxUploadBytes: 'IMAGE_MAX_UPLOAD_BYTES',
  imageMaxPixels: 'IMAGE_MAX_PIXELS',
  imageProcessingConcurrency: 'IMAGE_PROCESSING_CONCURRENCY',
  uploadQueueLimit: 'UPLOAD_QUEUE_LIMIT',
  renditionQueueLimit: 'RENDITION_QUEUE_LIMIT',
  imageWidths: 'IMAGE_WIDTHS',
  changesRetentionDays: 'CHANGES_RETENTION_DAYS',
  changeStreamPollMs: 'CHANGE_STREAM_POLL_MS',
  changeStreamHeartbeatMs: 'CHANGE_STREAM_HEARTBEAT_MS',
  changeStreamMaxBufferBytes: 'CHANGE_STREAM_MAX_BUFFER_BYTES',
  changeStreamMaxSubscribers: 'CHANGE_STREAM_MAX_SUBSCRIBERS',
  cdnPurgers: 'CDN_PURGERS',
  cdnPurgeIntervalMs: 'CDN_PURGE_INTERVAL_MS',
  varnishPurgeUrls: 'VARNISH_PURGE_URLS',
  fastlyServiceId: 'FASTLY_SERVICE_ID',
  fastlyApiToken: 'FASTLY_API_TOKEN',
  fastlyApiUrl: 'FASTLY_API_URL',
  cloudflareZoneId: 'CLOUDFLARE_ZONE_ID',
  cloudflareApiToken: 'CLOUDFLARE_API_TOKEN',
  cloudflareApiUrl: 'CLOUDFLARE_API_URL',
  requestTimeoutMs: 'REQUEST_TIMEOUT_MS',
  headersTimeoutMs: 'HEADERS_TIMEOUT_MS',
  keepAliveTimeoutMs: 'KEEP_ALIVE_TIMEOUT_MS',
  shutdownDrainMs: 'SHUTDOWN_DRAIN_MS'
}

function parseValue (key: keyof Config, raw: string): unknown {
  const fallback = defaultConfig[key]
  if (typeof fallback === 'number') return /^\d+$/.test(raw.trim()) ? Number(raw) : raw
  if (typeof fallback === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true
    if (/^(0|false|no|off)$/i.test(raw)) return false
    return raw
  }
  return raw
}

/** DATABASE_READ_URL: PostgreSQL URLs, and only beside a PostgreSQL primary (SQLite has no replicas). */
function readReplicaProblems (databaseUrl: string, databaseReadUrl: string): string[] {
  const urls = databaseReadUrl.split(',').map((url) => url.trim()).filter((url) => url !== '')
  if (urls.length === 0) return []
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
    return ['DATABASE_READ_URL: read replicas need PostgreSQL; DATABASE_URL names SQLite, which has none (unset DATABASE_READ_URL)']
  }
  const problems: string[] = []
  for (const url of urls) {
    let valid = /^postgres(ql)?:\/\//.test(url)
    try { new URL(url) } catch { valid = false } // eslint-disable-line no-new -- parsing is the check
    if (!valid) problems.push(`DATABASE_READ_URL: "${url.replace(/\/\/[^@/]*@/, '//***@').slice(0, 60)}" is not a postgres:// or postgresql:// URL`)
  }
  return problems
}

/** Reads the settings from environment variables, falling back to the defaults above. */
export function loadConfig (env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const candidate: Record<string, unknown> = { ...defaultConfig }
  for (const [key, name] of Object.entries(environmentNames) as Array<[keyof Config, string]>) {
    const raw = env[name]
    if (raw !== undefined && raw !== '') candidate[key] = parseValue(key, raw)
  }
  Object.assign(candidate, overrides)
  const problems = [...Value.Errors(ConfigSchema, candidate)].map((error) => {
    const key = error.instancePath.replace(/^\//, '') as keyof Config
    return `${environmentNames[key] ?? key}: ${error.message} (got ${key === 'bootstrapKey' || key === 's3SecretAccessKey' || key === 'fastlyApiToken' || key === 'cloudflareApiToken' ? 'a value that is not shown' : JSON.stringify(candidate[key])})`
  })
  for (const key of ['siteUrl', 'siteLogoUrl', 'apiPublicUrl', 'varnishPurgeUrls', 'fastlyApiUrl', 'cloudflareApiUrl'] as const) {
    const value = candidate[key]
    if (typeof value !== 'string' || value === '') continue
    const urls = key === 'varnishPurgeUrls' ? value.split(',') : [value]
    const unusable = urls.find((url) => !isHttpUrl(url))
    if (unusable !== undefined) problems.push(`${environmentNames[key]}: ${JSON.stringify(unusable)} is not an absolute http:// or https:// URL with a host`)
  }
  const allowedInternal = typeof candidate.webhookAllowedInternal === 'string' ? allowedInternalProblem(candidate.webhookAllowedInternal) : null
  if (allowedInternal !== null) problems.push(`WEBHOOK_ALLOWED_INTERNAL: ${allowedInternal}`)
  problems.push(...readReplicaProblems(String(candidate.databaseUrl), String(candidate.databaseReadUrl ?? '')))
  if (candidate.imageStorage === 's3' && candidate.s3Bucket === '') problems.push('S3_BUCKET: must be set when IMAGE_STORAGE=s3')
  if (Number(candidate.requestTimeoutMs) > 0 && Number(candidate.changeStreamHeartbeatMs) >= Number(candidate.requestTimeoutMs)) {
    problems.push('CHANGE_STREAM_HEARTBEAT_MS: must be below REQUEST_TIMEOUT_MS, or idle streams are cut as stalled connections')
  }
  if (problems.length === 0) problems.push(...deskSettingsProblems(candidate as Config))
  const purgers = String(candidate.cdnPurgers).split(',')
  if (purgers.includes('varnish') && candidate.varnishPurgeUrls === '') problems.push('VARNISH_PURGE_URLS: must be set when CDN_PURGERS includes varnish')
  if (purgers.includes('fastly') && (candidate.fastlyServiceId === '' || candidate.fastlyApiToken === '')) problems.push('FASTLY_SERVICE_ID and FASTLY_API_TOKEN: must be set when CDN_PURGERS includes fastly')
  if (purgers.includes('cloudflare') && (candidate.cloudflareZoneId === '' || candidate.cloudflareApiToken === '')) problems.push('CLOUDFLARE_ZONE_ID and CLOUDFLARE_API_TOKEN: must be set when CDN_PURGERS includes cloudflare')
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  ${[...new Set(problems)].join('\n  ')}`)
  return candidate as Config
}
