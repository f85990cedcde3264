import type { FieldErrors } from '../../platform/forms.ts'
import { refusals } from '../../platform/forms.ts'
import type { TenantConfig } from '../../platform/tenancy/tenant-config-types.ts'
import type { Translate } from '../../platform/views/i18n.ts'
import { tenantToday } from '../family/service.ts'
import { dateInYear, quoteTuition, type Tariffs, type TuitionQuote } from './tariffs.ts'

/*
 * The public tuition simulator: what a visitor typed, checked as the one form convention wants,
 * then priced by the same engine as the invoices. Nothing is stored.
 */

export const maxPupils = 6

/** The form as typed: every value a string, so that it can be shown again as it was. */
export interface SimulatorForm {
  resident: string
  qf: string
  paymentMode: string
  start: string
  pupils: string[][]
}

export const emptyForm = (): SimulatorForm => ({
  resident: '',
  qf: '',
  paymentMode: '',
  start: '',
  pupils: [[]],
})

const text = (value: unknown): string => (typeof value === 'string' ? value.slice(0, 100) : '')
const texts = (value: unknown): string[] =>
  (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string').slice(0, 50)

/** Reads a posted body whatever it holds: unknown keys ignored, repeated or missing values tolerated. */
export function readForm(body: unknown): SimulatorForm {
  const fields = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>
  const count = Math.min(Math.max(Number.parseInt(text(fields.pupils), 10) || 1, 1), maxPupils)
  return {
    resident: text(fields.resident),
    qf: text(fields.qf),
    paymentMode: text(fields.paymentMode),
    start: text(fields.start),
    pupils: Array.from({ length: count }, (_, i) => texts(fields[`p${i}`])),
  }
}

/** "add" adds a pupil block, "remove-<i>" removes one; anything else computes. */
export function applyAction(form: SimulatorForm, action: unknown): SimulatorForm | undefined {
  if (action === 'add' && form.pupils.length < maxPupils) return { ...form, pupils: [...form.pupils, []] }
  const removed = typeof action === 'string' ? /^remove-(\d)$/.exec(action) : null
  if (removed && form.pupils.length > 1) {
    const index = Number(removed[1])
    return { ...form, pupils: form.pupils.filter((_, i) => i !== index) }
  }
  return undefined
}

/**
 * The school year a visitor prices: the re-enrolment campaign's, else the year under way, or from
 * June the coming one, which families then ask about.
 */
export function simulatedYear(config: TenantConfig, now = new Date()): string {
  const campaign = config.periods?.reenrolment?.schoolYear
  if (campaign && /^\d{4}-\d{4}$/.test(campaign)) return campaign
  const [year, month] = tenantToday(config, now).split('-').map(Number) as [number, number]
  const first = month >= 6 ? year : year - 1
  return `${first}-${first + 1}`
}

/** The months a pupil may start in ("2027-11"), when the tenant prorates a start during the year. */
export function startMonths(tariffs: Tariffs, schoolYear: string): string[] {
  return (tariffs.proration?.months ?? []).map((m) => dateInYear(schoolYear, m, 1).slice(0, 7))
}

export interface Simulation {
  quote: TuitionQuote
  schoolYear: string
}

/** Checks the form and prices it; errors are keyed by field (`p0` for the first pupil's disciplines). */
export function simulate(
  form: SimulatorForm,
  config: TenantConfig,
  tariffs: Tariffs,
  t: Translate,
  now = new Date(),
): { values?: Simulation; errors: FieldErrors | undefined } {
  const errors: FieldErrors = {}
  const schoolYear = simulatedYear(config, now)
  if (!form.resident) errors.resident = t('simulator.required')
  else if (form.resident !== 'oui' && form.resident !== 'non') errors.resident = t('simulator.badChoice')
  const brackets = config.quotientFamilial?.brackets ?? []
  if (form.qf && !brackets.some((b) => b.code === form.qf)) errors.qf = t('simulator.badChoice')
  const modes = config.paymentModes ?? []
  if (modes.length && !form.paymentMode) errors.paymentMode = t('simulator.required')
  else if (form.paymentMode && !modes.some((m) => m.id === form.paymentMode))
    errors.paymentMode = t('simulator.badChoice')
  if (form.start && !startMonths(tariffs, schoolYear).includes(form.start))
    errors.start = t('simulator.badChoice')
  const known = new Set((config.disciplines ?? []).map((d) => d.code))
  for (const [i, disciplines] of form.pupils.entries()) {
    if (disciplines.length === 0) errors[`p${i}`] = t('simulator.noDiscipline')
    else if (disciplines.some((d) => !known.has(d))) errors[`p${i}`] = t('simulator.badChoice')
  }
  if (refusals(errors)) return { errors }
  const quote = quoteTuition(config, tariffs, {
    schoolYear,
    family: {
      resident: form.resident === 'oui',
      quotientBracket: form.qf || null,
      paymentMode: form.paymentMode || null,
    },
    pupils: form.pupils.map((disciplines) => ({ disciplines: [...new Set(disciplines)] })),
    start: form.start ? `${form.start}-01` : undefined,
  })
  const names = new Map((config.disciplines ?? []).map((d) => [d.code, d.name]))
  for (const pupil of quote.pupils) {
    if (pupil.unpriced.length)
      errors[`p${pupil.index}`] = t('simulator.unpriced', {
        disciplines: pupil.unpriced.map((d) => names.get(d) ?? d).join(', '),
      })
  }
  return refusals(errors) ? { errors } : { values: { quote, schoolYear }, errors: undefined }
}
