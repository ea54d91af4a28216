// Who may do what: the roles keys carry, and the access level each route declares.

export const roles = ['writer', 'editor', 'admin'] as const
export type Role = typeof roles[number]

/** What a route requires: "public" is anyone, even without a key; each role includes those before it. */
export const accessLevels = ['public', ...roles] as const
export type Access = typeof accessLevels[number]

/** The caller of a request (or the server itself, for the scheduler). */
export interface Actor {
  keyId: string | null
  keyName: string
  role: Role | 'system'
  /** A writer's own author record: the drafts they may edit carry this byline. */
  authorId: string | null
}

export const systemActor = (name: string): Actor => ({ keyId: null, keyName: name, role: 'system', authorId: null })

/** True when an actor (null: no key) meets an access level. */
export function allows (access: Access, actor: Actor | null): boolean {
  if (access === 'public') return true
  if (actor === null) return false
  if (actor.role === 'system') return true
  return roles.indexOf(actor.role) >= roles.indexOf(access)
}

/** The roles that may call a route with this access level, for the OpenAPI document. */
export function rolesAllowed (access: Access): Array<Access> {
  return access === 'public' ? [...accessLevels] : roles.filter((role) => allows(access, { keyId: null, keyName: '', role, authorId: null }))
}
