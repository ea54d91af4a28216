// Slugs made from headlines and names: lowercase, URL-safe, at most 80 characters, cut at a word.
import slugify from 'slugify'

export function slugFromText (text: string, fallback: string): string {
  const base = slugify(text, { lower: true, strict: true, trim: true }).replace(/-+/g, '-').replace(/^-|-$/g, '')
  const cut = base.length <= 80 ? base : base.slice(0, 80).replace(/-[^-]*$/, '')
  return cut === '' ? fallback : cut
}

/**
 * A slug for `text` that no row in `taken` has. After repeated conflicts with concurrent requests
 * (identical headlines arriving together), a short random tail breaks the tie.
 */
export function freeSlugAmong (text: string, fallback: string, conflicts: number, takenSlugs: (base: string) => Promise<Set<string>>): Promise<string> {
  const readable = slugFromText(text, fallback)
  const base = conflicts < 2 ? readable : `${readable}-${Math.random().toString(36).slice(2, 6)}`
  return takenSlugs(base).then((taken) => {
    if (!taken.has(base)) return base
    for (let suffix = 2; ; suffix++) if (!taken.has(`${base}-${suffix}`)) return `${base}-${suffix}`
  })
}
