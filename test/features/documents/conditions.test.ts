import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Facts } from '../../../src/features/documents/conditions.ts'
import { holds } from '../../../src/features/documents/conditions.ts'
import { documentsAsked } from '../../../src/features/documents/service.ts'
import { loadTenantConfigs } from '../../../src/platform/tenancy/tenant-config.ts'

const configs = loadTenantConfigs(fileURLToPath(new URL('../../../tenants', import.meta.url)))
const tenant = (slug: string) => configs.find((c) => c.slug === slug)!

const family = (over: Partial<Facts['family']> = {}): Facts['family'] => ({
  resident: true,
  paymentMode: null,
  ...over,
})
const pupil = (over: Partial<NonNullable<Facts['pupil']>> = {}): NonNullable<Facts['pupil']> => ({
  minor: true,
  disciplines: [],
  answers: {},
  ...over,
})
const asked = (slug: string, facts: Facts) => documentsAsked(tenant(slug), facts).map((d) => d.id)

t.test('a medical certificate only for dance pupils, except éveil (Plessis-Pâté’s YAML)', async (t) => {
  const certificate = (disciplines: string[]) =>
    asked('plessis-pate', { family: family(), pupil: pupil({ disciplines }) }).includes('certificat-medical')
  t.ok(certificate(['danse']), 'danse')
  t.ok(certificate(['cardio-danse']), 'cardio-danse')
  t.ok(certificate(['street-jazz-hip-hop']), 'street-jazz / hip-hop')
  t.notOk(certificate(['eveil-initiation']), 'éveil-initiation')
  t.notOk(certificate(['bien-etre']), 'bien-être')
  t.notOk(certificate(['danse', 'bien-etre']), 'danse and bien-être')
  t.notOk(certificate([]), 'no course')
})

t.test('proof of address and quotient familial only for residents (Limonest’s YAML)', async (t) => {
  t.same(
    asked('limonest', { family: family({ resident: true }) }).filter(
      (id) => id !== 'mandat-sepa' && id !== 'iban',
    ),
    ['justificatif-domicile', 'attestation-qf'],
  )
  t.same(asked('limonest', { family: family({ resident: false }) }), [])
})

t.test('SEPA mandate and IBAN only when paying by direct debit (Limonest’s YAML)', async (t) => {
  const outside = { resident: false }
  t.same(asked('limonest', { family: family({ ...outside, paymentMode: 'prelevement' }) }), [
    'mandat-sepa',
    'iban',
  ])
  t.same(asked('limonest', { family: family({ ...outside, paymentMode: 'cheque' }) }), [])
  t.same(asked('limonest', { family: family({ ...outside, paymentMode: null }) }), [], 'no mode chosen yet')
})

t.test('an autorisation parentale only when a pédibus is requested (Plessis-Pâté’s YAML)', async (t) => {
  const pedibus = (answers: Record<string, boolean>) =>
    asked('plessis-pate', { family: family(), pupil: pupil({ answers }) }).filter((id) =>
      ['pedibus', 'decharge-parentale'].includes(id),
    )
  t.same(pedibus({ pedibus: true }), ['pedibus', 'decharge-parentale'])
  t.same(pedibus({ pedibus: false }), [])
  t.same(pedibus({}), [], 'a question not answered is not a yes')
})

t.test(
  'documents are asked at their level: family facts for the family, pupil facts per pupil',
  async (t) => {
    const pupilLevel = asked('limonest', { family: family({ paymentMode: 'prelevement' }), pupil: pupil() })
    t.same(pupilLevel, ['responsabilite-civile'])
  },
)

t.test('the combinations and operators of the rule format', async (t) => {
  const facts: Facts = {
    family: family({ paymentMode: 'cheque' }),
    pupil: pupil({ minor: false, disciplines: ['violon'] }),
  }
  t.ok(holds({ fact: 'family.paymentMode', in: ['cheque', 'especes'] }, facts))
  t.notOk(holds({ fact: 'family.paymentMode', in: ['prelevement'] }, facts))
  t.ok(holds({ fact: 'pupil.minor', equals: false }, facts))
  t.ok(
    holds(
      {
        any: [
          { fact: 'pupil.minor', equals: true },
          { fact: 'pupil.disciplines', includesAny: ['violon'] },
        ],
      },
      facts,
    ),
  )
  t.notOk(
    holds(
      {
        all: [
          { fact: 'family.resident', equals: true },
          { fact: 'pupil.minor', equals: true },
        ],
      },
      facts,
    ),
  )
  t.ok(holds({ not: { not: { fact: 'family.resident', equals: true } } }, facts))
  t.notOk(holds({ fact: 'pupil.minor', equals: false }, { family: family() }), 'a pupil fact without a pupil')
})
