import { type Kysely, sql } from 'kysely'
import { jsonArrayFrom } from 'kysely/helpers/postgres'
import t from 'tap'
import { type TenantDb, tenantDb } from '../../src/entities.ts'
import { Pupil } from '../../src/features/pupils/entities.ts'
import { prepare, schemaReader } from '../../src/platform/db/reads.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { build } from '../helpers/build.ts'
import { createFamily } from '../helpers/families.ts'

// one read, compiled the first time it runs, for every tenant
const pupilsNamed = prepare((db: Kysely<TenantDb>, p: { lastName: string; ids: number[] | null }) =>
  db
    .selectFrom('pupil as p')
    .select(['p.id', 'p.first_name as firstName', 'p.last_name as lastName', 'p.created_at as createdAt'])
    .where('p.last_name', '=', p.lastName)
    .where(sql<boolean>`(cast(${p.ids} as integer[]) is null or p.id = any(${p.ids}))`)
    .orderBy('p.id'),
)

// a fragment several reads embed, built without a connection
const pupilsOfFamily = (familyId: number) =>
  jsonArrayFrom(
    tenantDb.selectFrom('pupil').select(['id', 'first_name as firstName']).where('family_id', '=', familyId),
  )
const familyRead = prepare((db: Kysely<TenantDb>, p: { familyId: number }) =>
  db.selectNoFrom([pupilsOfFamily(p.familyId).as('pupils')]),
)

t.test('a prepared read runs in the schema of the reader it is given, never another tenant’s', async (t) => {
  const { app, tenants } = await build(t, { tenants: [{}, {}] })
  const [a, b] = tenants.map((tenant) => tenant.slug) as [string, string]
  const inA = await createFamily(app, a, 'famille-a', 'Martin')
  const inB = await createFamily(app, b, 'famille-b', 'Martin')
  const secondInB = await createFamily(app, b, 'famille-c', 'Martin')
  const readerA = schemaReader(app.orm.em, schemaFor(a))
  const readerB = schemaReader(app.orm.em, schemaFor(b))

  // compiled on tenant A's reader, then run on tenant B's: the schema is the reader's each time
  const fromA = await pupilsNamed.all(readerA, { lastName: 'Martin', ids: null })
  const fromB = await pupilsNamed.all(readerB, { lastName: 'Martin', ids: null })
  t.equal(fromA.length, 1, 'tenant A has one Martin pupil')
  t.equal(fromB.length, 2, 'tenant B has two, and none of tenant A')
  t.equal(fromA[0]!.id, inA.pupil.id)
  t.same(
    fromB.map((p) => p.id),
    [inB.pupil.id, secondInB.pupil.id],
  )
  t.same(
    (await pupilsNamed.all(readerB, { lastName: 'Martin', ids: [secondInB.pupil.id] })).map((p) => p.id),
    [secondInB.pupil.id],
    'a list parameter filters',
  )
  t.same(await pupilsNamed.all(readerA, { lastName: 'Durand', ids: null }), [], 'and a text one')
  t.ok(Number.isFinite(Date.parse(fromA[0]!.createdAt)), 'a timestamp reads as text Date understands')

  const [familyOfA] = await familyRead.all(readerA, { familyId: inA.family.id })
  t.same(
    familyOfA?.pupils.map((p) => p.firstName),
    ['Léa'],
  )
})

t.test('a read given an EntityManager in a transaction sees what the transaction wrote', async (t) => {
  const { app, tenants } = await build(t)
  const slug = tenants[0]!.slug
  const { family } = await createFamily(app, slug, 'famille-a', 'Martin')
  const reader = schemaReader(app.orm.em, schemaFor(slug))
  await t.rejects(
    app.orm.em.fork({ schema: schemaFor(slug) }).transactional(async (tx) => {
      tx.create(Pupil, { family: family.id, lastName: 'Martin', firstName: 'Hugo' })
      await tx.flush()
      const inside = await pupilsNamed.all(tx, { lastName: 'Martin', ids: null })
      t.same(
        inside.map((p) => p.firstName),
        ['Léa', 'Hugo'],
        'the transaction reads its own write',
      )
      throw new Error('roll back')
    }),
  )
  const after = await pupilsNamed.all(reader, { lastName: 'Martin', ids: null })
  t.same(
    after.map((p) => p.firstName),
    ['Léa'],
    'the rolled-back write was never seen outside',
  )
})

t.test('a read without a tenant schema is refused rather than run on a default schema', async (t) => {
  const { app } = await build(t)
  await t.rejects(pupilsNamed.all(app.orm.em.fork(), { lastName: 'Martin', ids: null }), /tenant schema/)
})
