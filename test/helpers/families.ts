import type { FastifyInstance } from 'fastify'
import { Family, Guardian } from '../../src/features/family/entities.ts'
import { Pupil } from '../../src/features/pupils/entities.ts'
import { schemaFor } from '../../src/platform/tenancy/registry.ts'
import { createAccount } from './accounts.ts'

/**
 * A family in the tenant's schema: its first guardian signs in as `identifiant`, a second guardian
 * and a pupil come with it.
 */
export async function createFamily(
  app: FastifyInstance,
  slug: string,
  identifiant: string,
  lastName = 'Martin',
) {
  const account = await createAccount(app, slug, {
    identifiant,
    email: `${identifiant}@example.fr`,
    displayName: `Camille ${lastName}`,
  })
  const em = app.orm.em.fork({ schema: schemaFor(slug) })
  const family = em.create(Family, {})
  const guardian = em.create(Guardian, {
    family,
    rank: 1,
    civility: 'Madame',
    lastName,
    firstName: 'Camille',
    birthDate: '1982-04-12',
    address: '3 rue des Lilas',
    postalCode: '69760',
    city: 'Limonest',
    phoneMobile: '06 12 34 56 78',
    email: `${identifiant}@example.fr`,
    familySituation: 'Marié(e)',
    extraPhones: [],
    account,
  })
  const second = em.create(Guardian, {
    family,
    rank: 2,
    civility: 'Monsieur',
    lastName,
    firstName: 'Thomas',
    extraPhones: [],
  })
  const pupil = em.create(Pupil, { family, lastName, firstName: 'Léa', birthDate: '2014-09-01' })
  await em.flush()
  return { account, family, guardian, second, pupil }
}
