// Slugs made from headlines and names: lowercase, URL-safe, at most 80 characters, cut at a word.
// Some words are reserved (RESERVED_SLUGS): a website routing /{slug} routes "/new" or "/feed" itself.
import slugify from 'slugify'
import { errors, withFieldErrors, type CatalogueError } from './errors.ts'

export function slugFromText (text: string, fallback: string): string {
  const base = slugify(text, { lower: true, strict: true, trim: true }).replace(/-+/g, '-').replace(/^-|-$/g, '')
  const cut = base.length <= 80 ? base : base.slice(0, 80).replace(/-[^-]*$/, '')
  return cut === '' ? fallback : cut
}

/**
 * A slug for `text` that no row in `taken` has and that is not reserved (a reserved word gets a
 * number: "new-1"). After repeated conflicts with concurrent requests (identical headlines arriving
 * together), a short random tail breaks the tie.
 */
export function freeSlugAmong (text: string, fallback: string, conflicts: number, takenSlugs: (base: string) => Promise<Set<string>>, reserved: ReadonlySet<string> = new Set()): Promise<string> {
  const readable = slugFromText(text, fallback)
  const base = conflicts < 2 ? readable : `${readable}-${Math.random().toString(36).slice(2, 6)}`
  return takenSlugs(base).then((taken) => {
    const free = (slug: string): boolean => !taken.has(slug) && !reserved.has(slug)
    if (free(base)) return base
    for (let suffix = reserved.has(base) ? 1 : 2; ; suffix++) if (free(`${base}-${suffix}`)) return `${base}-${suffix}`
  })
}

/** Refuses a slug given explicitly when it is reserved: 400 naming /slug. */
export function assertSlugNotReserved (slug: string | undefined, reserved: ReadonlySet<string>): void {
  if (slug === undefined || !reserved.has(slug)) return
  const message = 'is reserved (RESERVED_SLUGS): the website uses it for a page of its own'
  throw withFieldErrors(errors.slugReserved(`body/slug "${slug}" ${message}`) as CatalogueError, [{ in: 'body', pointer: '/slug', message }])
}
