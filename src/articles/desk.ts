// The newsroom's desk rules (edit leases, sign-offs, preflight), read once from the settings and
// bound to the database client when it opens, as the change spine is: the article service checks
// them inside its own transactions without every caller passing them along.
import type { Config } from '../config.ts'
import type { Database, Prisma } from '../db/client.ts'
import { roles, type Role } from '../keys/roles.ts'

export type RuleLevel = 'error' | 'warning' | 'off'
export const preflightRuleNames = ['alt-text', 'body-alt-text', 'image-credit', 'headline-length', 'dek-length', 'unpublished-links'] as const
export type PreflightRule = typeof preflightRuleNames[number]

/**
 * A lead image without alt text and links to unpublished stories are errors; a body image without
 * alt text, a missing credit and lengths are warnings by default, since many newsrooms publish
 * handouts and short headlines, and a body image often repeats what the text says (PREFLIGHT_RULES).
 * An image marked decorative needs no alt text anywhere.
 */
export const defaultRuleLevels: Record<PreflightRule, RuleLevel> = {
  'alt-text': 'error',
  'body-alt-text': 'warning',
  'image-credit': 'warning',
  'headline-length': 'warning',
  'dek-length': 'warning',
  'unpublished-links': 'error'
}

export interface DeskRules {
  leases: 'enforced' | 'advisory'
  leaseTtlSeconds: number
  presenceWindowSeconds: number
  /** Each sign-off kind there is, with the least role that may give it. */
  signoffKinds: ReadonlyMap<string, Role>
  requiredSignoffs: readonly string[]
  preflight: Record<PreflightRule, RuleLevel>
  headlineLength: { min: number, max: number }
  dekLength: { min: number, max: number }
  /** Origins whose article URLs preflight recognises (the website's and this API's), with the website's article path. */
  siteUrl: string
  articlePath: string
  apiUrls: readonly string[]
}

function bounds (setting: string): { min: number, max: number } {
  const [min, max] = setting.split('-').map(Number) as [number, number]
  return { min, max }
}

function pairs (setting: string): Array<[string, string]> {
  return setting === '' ? [] : setting.split(',').map((pair) => pair.split(':') as [string, string])
}

/** What is wrong with the desk settings together (each is valid alone by the config schema). */
export function deskSettingsProblems (config: Pick<Config, 'signoffKinds' | 'requiredSignoffs' | 'preflightRules' | 'preflightHeadlineLength' | 'preflightDekLength'>): string[] {
  const problems: string[] = []
  const kinds = new Set(pairs(config.signoffKinds).map(([kind]) => kind))
  const unknownKinds = config.requiredSignoffs === '' ? [] : config.requiredSignoffs.split(',').filter((kind) => !kinds.has(kind))
  if (unknownKinds.length > 0) problems.push(`REQUIRED_SIGNOFFS: ${unknownKinds.join(', ')} not among SIGNOFF_KINDS (${[...kinds].join(', ')})`)
  const unknownRules = pairs(config.preflightRules).map(([rule]) => rule).filter((rule) => !(preflightRuleNames as readonly string[]).includes(rule))
  if (unknownRules.length > 0) problems.push(`PREFLIGHT_RULES: unknown rule ${unknownRules.join(', ')}; the rules are ${preflightRuleNames.join(', ')}`)
  for (const [name, setting] of [['PREFLIGHT_HEADLINE_LENGTH', config.preflightHeadlineLength], ['PREFLIGHT_DEK_LENGTH', config.preflightDekLength]] as const) {
    if (typeof setting !== 'string' || !/^\d+-\d+$/.test(setting)) continue
    const { min, max } = bounds(setting)
    if (min > max) problems.push(`${name}: the minimum ${min} is above the maximum ${max}`)
  }
  return problems
}

export function deskRulesOf (config: Config): DeskRules {
  const apiUrls = [config.apiPublicUrl, `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`].filter((url) => url !== '')
  return {
    leases: config.articleLeases,
    leaseTtlSeconds: config.articleLeaseTtlSeconds,
    presenceWindowSeconds: config.presenceWindowSeconds,
    signoffKinds: new Map(pairs(config.signoffKinds).filter(([, role]) => (roles as readonly string[]).includes(role)) as Array<[string, Role]>),
    requiredSignoffs: config.requiredSignoffs === '' ? [] : [...new Set(config.requiredSignoffs.split(','))],
    preflight: { ...defaultRuleLevels, ...Object.fromEntries(pairs(config.preflightRules)) as Partial<Record<PreflightRule, RuleLevel>> },
    headlineLength: bounds(config.preflightHeadlineLength),
    dekLength: bounds(config.preflightDekLength),
    siteUrl: config.siteUrl,
    articlePath: config.articlePath,
    apiUrls
  }
}

const DESK = Symbol.for('copydesk.desk-rules')

/** Called when the database opens. Prisma's transaction clients see the base client's properties. */
export function bindDeskRules (db: Database, rules: DeskRules): void {
  Object.defineProperty(db, DESK, { value: rules, configurable: true })
}

/** The rules bound to this client; a client opened without them (a script) gets the defaults. */
export function deskRules (client: Database | Prisma.TransactionClient): DeskRules {
  return (client as unknown as Record<symbol, DeskRules | undefined>)[DESK] ?? fallback
}

const fallback: DeskRules = {
  leases: 'enforced',
  leaseTtlSeconds: 120,
  presenceWindowSeconds: 300,
  signoffKinds: new Map([['copy', 'editor'], ['legal', 'editor']]),
  requiredSignoffs: [],
  preflight: defaultRuleLevels,
  headlineLength: { min: 10, max: 120 },
  dekLength: { min: 0, max: 300 },
  siteUrl: '',
  articlePath: '/articles/{slug}',
  apiUrls: []
}
