import t from 'tap'
import { buildTestApp, createAuthor, json, post } from './helper.ts'

t.test('the masthead lists roles in order, with holders or vacant', async (t) => {
  const app = await buildTestApp(t)
  const morgan = await createAuthor(app, { name: 'Morgan Hale', jobTitle: 'Founder' })
  const priya = await createAuthor(app, { name: 'Priya Natarajan' })
  const founder = json(await post(app, '/masthead/roles', { title: 'Founder & Editor-in-Chief', department: 'Editorial', holderId: morgan.id }))
  const managing = json(await post(app, '/masthead/roles', { title: 'Managing Editor', department: 'Editorial', holderId: priya.id }))
  const counsel = json(await post(app, '/masthead/roles', { title: 'General Counsel', department: 'Business' }))
  t.same([founder.position, managing.position, counsel.position], [0, 1, 2], 'new roles go last')
  t.equal(counsel.vacant, true)
  t.equal(counsel.holder, null)
  t.equal(founder.holder.name, 'Morgan Hale')

  const masthead = json(await app.inject({ method: 'GET', url: '/masthead' }))
  t.same(masthead.roles.map((r: any) => [r.title, r.holder?.name ?? null, r.vacant]), [
    ['Founder & Editor-in-Chief', 'Morgan Hale', false],
    ['Managing Editor', 'Priya Natarajan', false],
    ['General Counsel', null, true]
  ])

  const moved = json(await app.inject({ method: 'PATCH', url: `/masthead/roles/${counsel.id}`, payload: { position: 0 } }))
  t.equal(moved.position, 0)
  const reordered = json(await app.inject({ method: 'GET', url: '/masthead' }))
  t.same(reordered.roles.map((r: any) => r.title), ['Founder & Editor-in-Chief', 'General Counsel', 'Managing Editor'], 'equal positions keep creation order')

  const vacated = json(await app.inject({ method: 'PATCH', url: `/masthead/roles/${managing.id}`, payload: { holderId: null } }))
  t.equal(vacated.vacant, true)
  const replaced = json(await app.inject({ method: 'PUT', url: `/masthead/roles/${managing.id}`, payload: { title: 'Executive Editor', position: 5, holderId: priya.id } }))
  t.equal(replaced.title, 'Executive Editor')
  t.equal(replaced.department, null, 'PUT clears the department it leaves out')
  t.equal(json(await app.inject({ method: 'GET', url: `/masthead/roles/${managing.id}` })).holder.id, priya.id)

  t.equal((await app.inject({ method: 'DELETE', url: `/masthead/roles/${counsel.id}` })).statusCode, 204)
  const missing = await app.inject({ method: 'DELETE', url: `/masthead/roles/${counsel.id}` })
  t.equal(missing.statusCode, 404)
  t.equal(json(missing).code, 'MASTHEAD_ROLE_NOT_FOUND')
  t.equal(json(await app.inject({ method: 'GET', url: '/masthead' })).roles.length, 2)
})

t.test('invalid masthead roles are refused', async (t) => {
  const app = await buildTestApp(t)
  const unknownHolder = await post(app, '/masthead/roles', { title: 'Senior Designer', holderId: '019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11' })
  t.equal(unknownHolder.statusCode, 400)
  t.equal(json(unknownHolder).code, 'INVALID_REFERENCE')
  t.equal(json(unknownHolder).errors[0].pointer, '/holderId')
  for (const payload of [{}, { title: '' }, { title: 'X', position: -1 }, { title: 'X', position: 'first' }]) {
    t.equal((await post(app, '/masthead/roles', payload)).statusCode, 400, JSON.stringify(payload))
  }
  t.same(json(await app.inject({ method: 'GET', url: '/masthead' })).roles, [])
})
