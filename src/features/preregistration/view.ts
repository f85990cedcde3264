import type { TenantConfig } from '../../platform/tenancy/tenant-config.ts'
import type { MessageKey, Translate } from '../../platform/views/i18n.ts'
import type { IdentityField } from '../family/identity.ts'
import { displayValue } from '../sas/service.ts'
import type { Applicant, PersonValues } from './entities.ts'
import { applicantFields, applicantGuardianFields } from './form.ts'
import { applicantLines } from './service.ts'

/**
 * A person's filled fields in words, in the form's order (jsonb keeps keys in its own order), for
 * the read-only dossier and staff.
 */
function personLines(fields: readonly IdentityField[], values: PersonValues, t: Translate) {
  return fields
    .map((f) => [f.name, values[f.name] ?? null] as const)
    .filter(([name, value]) => value !== null && !(name === 'useGuardianAddress' && value === 'false'))
    .map(([name, value]) => ({
      label: t(`identity.${name}` as MessageKey),
      value: displayValue(name, value, t),
    }))
}

/** Guardians and applicants as the read-only pages show them. */
export function dossierView(
  tenant: TenantConfig,
  dossier: { guardians: PersonValues[]; applicants: Applicant[] },
  t: Translate,
) {
  const lines = applicantLines(tenant, dossier.applicants)
  const fields = applicantFields(tenant)
  return {
    guardians: dossier.guardians.map((g) => ({ lines: personLines(applicantGuardianFields, g, t) })),
    applicants: dossier.applicants.map((a, i) => ({
      fromGuardian: a.fromGuardian,
      lines: personLines(fields, a.values, t),
      name: lines[i]!.name,
      choices: lines[i]!.choices,
      freeText: a.freeText,
    })),
  }
}
