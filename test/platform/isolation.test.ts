import t from 'tap'
import { Family, Guardian } from '../../src/features/family/entities.ts'
import { Pupil } from '../../src/features/pupils/entities.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { build } from '../helpers/build.ts'

t.test('tenant isolation', async (t) => {
  const { app, tenants, host } = await build(t, {
    tenants: [{}, {}],
    plugin: async (app) => {
      // what a feature sees through the request's EntityManager
      app.get('/test/pupils', { constraints: { site: 'tenant' } }, async (request) => {
        const pupils = await request.em.find(Pupil, {}, { orderBy: { id: 'asc' } })
        return pupils.map((p) => `${p.firstName} ${p.lastName}`)
      })
    },
  })
  const [a, b] = tenants as [(typeof tenants)[0], (typeof tenants)[0]]

  const em = app.orm.em.fork({ schema: schemaFor(a.slug) })
  const family = em.create(Family, { resident: true })
  em.create(Guardian, { family, rank: 1, lastName: 'Rivière', firstName: 'Anne', extraPhones: [] })
  em.create(Pupil, { family, lastName: 'Rivière', firstName: 'Léo' })
  await em.flush()

  t.test('data written through tenant A is in A’s schema only', async (t) => {
    t.equal(await app.orm.em.fork({ schema: schemaFor(a.slug) }).count(Pupil), 1)
    t.equal(await app.orm.em.fork({ schema: schemaFor(b.slug) }).count(Pupil), 0)
  })

  t.test('each host’s requests see only their tenant’s data', async (t) => {
    t.same((await app.inject({ url: '/test/pupils', headers: { host: host(0) } })).json(), ['Léo Rivière'])
    t.same((await app.inject({ url: '/test/pupils', headers: { host: host(1) } })).json(), [])
  })

  t.test('the global EntityManager refuses tenant entities', async (t) => {
    await t.rejects(app.orm.em.find(Pupil, {}), { message: /global EntityManager/ })
    t.throws(() => app.orm.em.create(Pupil, { family: 1, lastName: 'X', firstName: 'Y' }), {
      message: /global EntityManager/,
    })
  })

  t.test('queries are schema-qualified on the one shared pool', async (t) => {
    const sql = app.orm.em
      .fork({ schema: schemaFor(b.slug) })
      .createQueryBuilder(Pupil)
      .select('*')
      .getFormattedQuery()
    t.match(sql, `from "${schemaFor(b.slug)}"."pupil"`)
  })
})
