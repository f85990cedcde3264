import { type Document, isCollection, parseDocument } from 'yaml'
import schema from '../../../config/tenant.schema.json' with { type: 'json' }
import type { SignedInContext, TenantContext } from '../../platform/auth/context.ts'
import type { FieldErrors } from '../../platform/forms.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { problemText } from '../../platform/tenancy/config-problems.ts'
import { resolveBound } from '../../platform/tenancy/periods.ts'
import { type ConfigProblem, sourceOf } from '../../platform/tenancy/tenant-config.ts'
import type {
  Condition,
  DocumentType,
  GuardianField,
  PaymentMode,
  PupilField,
  RequiredDocument,
  Step,
} from '../../platform/tenancy/tenant-config-types.ts'
import { formatDate, zonedParts } from '../../platform/views/dates.ts'
import type { Translate } from '../../platform/views/i18n.ts'
import { fold } from '../../platform/text.ts'
import { createDraft, type DraftOrigin, editedSource } from './service.ts'
import { deleteKey, type Path, printEdited, setFlow, setList, setText } from './yaml-edit.ts'

/**
 * The forms for what changes every year. Each reads the served version, changes only the keys its
 * fields hold with the `yaml` library's document (comments and every other key kept), and hands the
 * whole text to the core's createDraft, which checks it as the boot does and against the data.
 * Nothing is published here: a change ends as a draft the admin previews and publishes.
 */

/** A form's values as its inputs hold them: strings, a ticked box as "true". */
export type FormInput = Record<string, string | undefined>

/**
 * What a form's submission came to: a draft to preview, or refusals — beside their fields, and the
 * problems no field of the form shows, with their line in the file.
 */
export interface Outcome {
  draft?: number
  errors?: FieldErrors
  problems: string[]
}

/** The field of a form a problem's path (`periods.reenrolment.closes`) is about; none for the summary. */
type Placer = (path: string) => string | undefined

export const guardianFields = schema.definitions.guardianField.enum as GuardianField[]
export const pupilFields = schema.definitions.pupilField.enum as PupilField[]
export const allSteps = schema.definitions.step.enum as Step[]
export const layouts = schema.properties.reenrolment.properties.layout.enum as ('wizard' | 'onePage')[]
export const formats = schema.definitions.documentType.enum as DocumentType[]
export const paymentKinds = schema.definitions.paymentMode.properties.kind.enum as PaymentMode['kind'][]
export const textKeys = [
  'home',
  'imageRights',
  'exitAuthorization',
  'rulesUrl',
  'rulesAcceptance',
  'paymentInfo',
  'documentsIntro',
  'accessibility',
] as const
const documentDefaults = { accept: ['pdf', 'jpeg', 'png'], maxSizeMb: 2, validity: 'schoolYear' }
export const periodNames = ['preregistration', 'reenrolment'] as const

/** The text a form edits: the admin's draft it continues, else the one every server serves now. */
async function servedSource(ctx: TenantContext): Promise<string> {
  return (await editedSource(ctx)) ?? sourceOf(ctx.tenant.config) ?? ''
}

const sentence = (text: string) => {
  const capital = text.charAt(0).toLocaleUpperCase('fr') + text.slice(1)
  return /[.!?]$/.test(capital) ? capital : `${capital}.`
}

/** The core's problems, each beside the field it is about, or in the summary with its line. */
function placed(t: Translate, problems: ConfigProblem[], place: Placer): Outcome {
  const errors: FieldErrors = {}
  const unplaced: string[] = []
  for (const problem of problems) {
    const message = problemText(problem, t)
    const field = place(problem.path)
    if (field && !errors[field]) errors[field] = sentence(message)
    else if (!field)
      unplaced.push(
        problem.line
          ? t('configForm.problemAt', { line: problem.line, path: problem.path || '/', message })
          : t('configForm.problemOf', { path: problem.path || '/', message }),
      )
  }
  return { errors: Object.keys(errors).length > 0 ? errors : undefined, problems: unplaced }
}

/** The edited text as a draft, or the problems the core found in it. */
async function draftOf(
  ctx: SignedInContext,
  origin: DraftOrigin,
  source: string,
  doc: Document,
  place: Placer,
): Promise<Outcome> {
  const text = printEdited(source, doc)
  if (text === source) return { problems: [ctx.t('configForm.unchanged')] }
  const made = await createDraft(ctx, text, origin)
  if ('id' in made) return { draft: made.id, problems: [] }
  return placed(ctx.t, made.problems, place)
}

const refused = (errors: FieldErrors): Outcome => ({ errors, problems: [] })
const ticked = (input: FormInput, name: string) => input[name] === 'true'
const typed = (input: FormInput, name: string) => (input[name] ?? '').replace(/\r\n?/g, '\n').trim()
const sameList = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((value, i) => value === b[i])

// —— Periods ——

const two = (n: number) => String(n).padStart(2, '0')

/** An instant as a datetime-local input shows it, in the tenant's timezone: 2026-06-11T23:59. */
function localInput(instant: Date, timeZone: string): string {
  const p = zonedParts(instant, timeZone)
  return `${p.year}-${two(p.month)}-${two(p.day)}T${two(p.hour)}:${two(p.minute)}`
}

const isRealDate = (y: number, m: number, d: number) => {
  const date = new Date(Date.UTC(y, m - 1, d))
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d
}

/** A date as typed (2026-06-11, 11/06/2026) → 2026-06-11, or undefined. */
export function plainDate(value: string): string | undefined {
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(value)
  const french = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(value)
  const [y, m, d] = iso
    ? [Number(iso[1]), Number(iso[2]), Number(iso[3])]
    : french
      ? [Number(french[3]), Number(french[2]), Number(french[1])]
      : [0, 0, 0]
  return y && isRealDate(y, m, d) ? `${y}-${two(m)}-${two(d)}` : undefined
}

/**
 * A period bound as typed (the browser's 2026-06-11T23:59, or 11/06/2026 23:59, or a date alone) as
 * the file writes it: a date alone when the time is the bound's own (00:00 to open, 23:59 to close).
 */
export function boundSpec(value: string, edge: 'opens' | 'closes'): string | undefined {
  if (/^today([+-]\d{1,4})?$/.test(value)) return value
  const [datePart = '', timePart] = value.split(/T|\s+(?:à\s+)?/)
  const date = plainDate(datePart)
  if (!date) return undefined
  if (timePart === undefined) return date
  const time = /^(\d{1,2})[:h](\d{2})(?::\d{2}(?:\.\d+)?)?$/.exec(timePart)
  if (!time) return undefined
  const [hour, minute] = [Number(time[1]), Number(time[2])]
  if (hour > 23 || minute > 59) return undefined
  if ((edge === 'opens' && hour === 0 && minute === 0) || (edge === 'closes' && hour === 23 && minute === 59))
    return date
  return `${date}T${two(hour)}:${two(minute)}`
}

/** The periods form as it opens: each bound resolved to a date and a time, what the file says beside. */
export function periodsForm(ctx: TenantContext, now = new Date()) {
  const values: FormInput = {}
  const hints: Record<string, string> = {}
  const timeZone = ctx.config.timezone
  for (const name of periodNames) {
    const period = ctx.config.periods?.[name]
    values[`${name}-enabled`] = period ? 'true' : ''
    for (const edge of ['opens', 'closes'] as const) {
      const shown = period ? localInput(resolveBound(period[edge], edge, timeZone, now), timeZone) : ''
      values[`${name}-${edge}`] = shown
      values[`${name}-${edge}-shown`] = shown
      if (period?.[edge].startsWith('today'))
        hints[`${name}-${edge}`] = ctx.t('configForm.periods.relative', { spec: period[edge] })
    }
  }
  values['reenrolment-schoolYear'] = ctx.config.periods?.reenrolment?.schoolYear ?? ''
  return { values, hints }
}

const placePeriod: Placer = (path) => {
  const match = /^periods\.(preregistration|reenrolment)(?:\.(opens|closes|schoolYear))?/.exec(path)
  return match ? `${match[1]}-${match[2] ?? 'enabled'}` : undefined
}

export async function savePeriods(ctx: SignedInContext, input: FormInput): Promise<Outcome> {
  const { t } = ctx
  const errors: FieldErrors = {}
  const source = await servedSource(ctx)
  const doc = parseDocument(source)
  for (const name of periodNames) {
    const current = ctx.config.periods?.[name] as Record<string, string> | undefined
    if (!ticked(input, `${name}-enabled`)) {
      if (current) deleteKey(doc, ['periods', name])
      continue
    }
    const next: Record<string, string> = {}
    for (const edge of ['opens', 'closes'] as const) {
      const field = `${name}-${edge}`
      const value = typed(input, field)
      // what the page showed and nobody changed stays as the file writes it (today+45 included)
      if (current && value && value === typed(input, `${field}-shown`)) next[edge] = current[edge]!
      else if (!value) errors[field] = t('configForm.required')
      else {
        const spec = boundSpec(value, edge)
        if (spec) next[edge] = spec
        else errors[field] = t('configForm.periods.badDate')
      }
    }
    if (name === 'reenrolment') {
      const year = typed(input, 'reenrolment-schoolYear')
      const match = /^(\d{4})-(\d{4})$/.exec(year)
      if (!year) errors['reenrolment-schoolYear'] = t('configForm.required')
      else if (!match || Number(match[2]) !== Number(match[1]) + 1)
        errors['reenrolment-schoolYear'] = t('configForm.periods.badYear')
      else next.schoolYear = year
    }
    if (!current) doc.setIn(['periods', name], next)
    else for (const key in next) if (next[key] !== current[key]) doc.setIn(['periods', name, key], next[key])
  }
  if (Object.keys(errors).length > 0) return refused(errors)
  return draftOf(ctx, 'periods', source, doc, placePeriod)
}

// —— Texts ——

interface TextField {
  name: string
  path: Path
  current: string | undefined
}

function textFields(ctx: TenantContext): TextField[] {
  return [
    ...textKeys.map((key) => ({
      name: `texts-${key}`,
      path: ['texts', key],
      current: ctx.config.texts?.[key],
    })),
    ...allSteps.map((step) => ({
      name: `intro-${step}`,
      path: ['reenrolment', 'texts', step],
      current: ctx.config.reenrolment.texts?.[step],
    })),
  ]
}

/** The course notes, one a line (a note written over several lines in the file shows as several). */
const noteLines = (notes: string[]) => notes.flatMap((note) => note.split('\n')).map((line) => line.trim())

export function textsForm(ctx: TenantContext) {
  const values: FormInput = {}
  for (const field of textFields(ctx)) values[field.name] = field.current ?? ''
  values.courseNotes = noteLines(ctx.config.reenrolment.courseNotes ?? []).join('\n')
  return { values }
}

const placeText: Placer = (path) => {
  const text = /^texts\.(\w+)/.exec(path)
  if (text) return `texts-${text[1]}`
  const intro = /^reenrolment\.texts\.(\w+)/.exec(path)
  if (intro) return `intro-${intro[1]}`
  return path.startsWith('reenrolment.courseNotes') ? 'courseNotes' : undefined
}

const isWebAddress = (value: string) => {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol)
  } catch {
    return false
  }
}

export async function saveTexts(ctx: SignedInContext, input: FormInput): Promise<Outcome> {
  const errors: FieldErrors = {}
  const source = await servedSource(ctx)
  const doc = parseDocument(source)
  for (const { name, path, current } of textFields(ctx)) {
    const value = typed(input, name)
    if (value === (current ?? '').trim()) continue
    if (!value) deleteKey(doc, path)
    else if (name === 'texts-rulesUrl' && !isWebAddress(value))
      errors[name] = ctx.t('configForm.texts.badUrl')
    else setText(doc, path, value)
  }
  const notes = typed(input, 'courseNotes')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
  const currentNotes = ctx.config.reenrolment.courseNotes ?? []
  if (!sameList(notes, noteLines(currentNotes))) {
    if (notes.length === 0) deleteKey(doc, ['reenrolment', 'courseNotes'])
    else setList(doc, ['reenrolment', 'courseNotes'], notes, false)
  }
  if (Object.keys(errors).length > 0) return refused(errors)
  return draftOf(ctx, 'texts', source, doc, placeText)
}

// —— Mandatory fields ——

export function fieldsForm(ctx: TenantContext) {
  const values: FormInput = {}
  for (const field of ctx.config.fields.guardian) values[`guardian-${field}`] = 'true'
  for (const field of ctx.config.fields.pupil) values[`pupil-${field}`] = 'true'
  return { values }
}

export async function saveFields(ctx: SignedInContext, input: FormInput): Promise<Outcome> {
  const source = await servedSource(ctx)
  const doc = parseDocument(source)
  for (const [kind, all] of [
    ['guardian', guardianFields],
    ['pupil', pupilFields],
  ] as const) {
    const current: string[] = ctx.config.fields[kind]
    // the fields kept stay where the file lists them, the new ones follow in the form's order
    const next = [
      ...current.filter((field) => ticked(input, `${kind}-${field}`)),
      ...all.filter((field) => !current.includes(field) && ticked(input, `${kind}-${field}`)),
    ]
    if (!sameList(next, current)) setList(doc, ['fields', kind], next)
  }
  return draftOf(ctx, 'fields', source, doc, (path) => {
    const match = /^fields\.(guardian|pupil)/.exec(path)
    return match ? `${match[1]}-fields` : undefined
  })
}

// —— Re-enrolment steps ——

export function stepsForm(ctx: TenantContext) {
  const values: FormInput = { layout: ctx.config.reenrolment.layout }
  for (const [i, step] of ctx.config.reenrolment.steps.entries()) values[`position-${step}`] = String(i + 1)
  return { values }
}

export async function saveSteps(ctx: SignedInContext, input: FormInput): Promise<Outcome> {
  const { t } = ctx
  const errors: FieldErrors = {}
  const chosen: { step: Step; position: number }[] = []
  const taken = new Map<number, Step>()
  for (const step of allSteps) {
    const value = typed(input, `position-${step}`)
    if (!value) continue
    const position = /^\d{1,2}$/.test(value) ? Number(value) : 0
    if (position < 1 || position > allSteps.length) {
      errors[`position-${step}`] = t('configForm.steps.badPosition', { max: allSteps.length })
      continue
    }
    const other = taken.get(position)
    if (other) {
      errors[`position-${step}`] = t('configForm.steps.samePosition', {
        position,
        step: t(`reenrolment.step.${other}`),
      })
      continue
    }
    taken.set(position, step)
    chosen.push({ step, position })
  }
  if (!errors['position-finalize'] && !taken.has(Number(typed(input, 'position-finalize'))))
    errors['position-finalize'] = t('configForm.steps.finalizeNeeded')
  const layout = typed(input, 'layout')
  if (!(layouts as string[]).includes(layout)) errors.layout = t('configForm.chooseOne')
  if (Object.keys(errors).length > 0) return refused(errors)
  const source = await servedSource(ctx)
  const doc = parseDocument(source)
  const steps = chosen.sort((a, b) => a.position - b.position).map((c) => c.step)
  if (!sameList(steps, ctx.config.reenrolment.steps)) setList(doc, ['reenrolment', 'steps'], steps)
  if (layout !== ctx.config.reenrolment.layout) doc.setIn(['reenrolment', 'layout'], layout)
  return draftOf(ctx, 'steps', source, doc, (path) =>
    path === 'reenrolment.steps' ? 'position-finalize' : path === 'reenrolment.layout' ? 'layout' : undefined,
  )
}

// —— Identifiers of new pièces and payment modes ——

/** An identifier made from a label: "Certificat médical" → certificat-medical, unique in `taken`. */
export function identifierFrom(label: string, taken: Set<string>, prefix: string): string {
  let base = fold(label)
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 34)
    .replace(/-+$/, '')
  if (!/^[a-z]/.test(base)) base = `${prefix}${base ? `-${base}` : ''}`.slice(0, 34)
  let id = base
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`
  return id
}

// the words of the add pages' addresses, which no identifier may take
const reserved = ['nouvelle', 'nouveau']

// —— Pièces à fournir ——

type Kind = 'always' | 'disciplines' | 'paymentMode' | 'resident' | 'minor' | 'answer' | 'custom'

/** Which of the form's simple conditions a condition is; `custom` when only the YAML editor shows it. */
export function conditionKind(condition: Condition | undefined): Kind {
  if (!condition) return 'always'
  if (!('fact' in condition)) return 'custom'
  if (condition.fact === 'pupil.disciplines' && 'includesAny' in condition) return 'disciplines'
  if (condition.fact === 'family.paymentMode' && !('includesAny' in condition)) return 'paymentMode'
  if (!('equals' in condition) || typeof condition.equals !== 'boolean') return 'custom'
  if (condition.fact === 'family.resident') return 'resident'
  if (condition.fact === 'pupil.minor') return 'minor'
  return condition.fact.startsWith('pupil.answers.') ? 'answer' : 'custom'
}

const quoted = (values: string[], t: Translate) =>
  values.map((v) => `« ${v} »`).join(` ${t('configForm.condition.or')} `)

/** A condition in words: "Élèves inscrits en « Danse enfant » ou « Danse adulte »". */
export function conditionText(ctx: TenantContext, condition: Condition | undefined): string {
  const { t, config } = ctx
  if (!condition) return t('configForm.condition.always')
  if ('all' in condition)
    return condition.all.map((c) => conditionText(ctx, c)).join(` ${t('configForm.condition.and')} `)
  if ('any' in condition)
    return condition.any.map((c) => conditionText(ctx, c)).join(` ${t('configForm.condition.or')} `)
  if ('not' in condition)
    return t('configForm.condition.not', { condition: conditionText(ctx, condition.not) })
  const values =
    'equals' in condition ? [condition.equals] : 'in' in condition ? condition.in : condition.includesAny
  if (condition.fact === 'pupil.disciplines') {
    const names = new Map((config.disciplines ?? []).map((d) => [d.code, d.name]))
    return t('configForm.condition.disciplines', {
      names: quoted(
        values.map((v) => names.get(String(v)) ?? String(v)),
        t,
      ),
    })
  }
  if (condition.fact === 'family.paymentMode') {
    const labels = new Map((config.paymentModes ?? []).map((m) => [m.id, m.label]))
    return t('configForm.condition.paymentMode', {
      labels: quoted(
        values.map((v) => labels.get(String(v)) ?? String(v)),
        t,
      ),
    })
  }
  const yes = values[0] === true
  if (condition.fact === 'family.resident')
    return t(yes ? 'configForm.condition.resident' : 'configForm.condition.notResident')
  if (condition.fact === 'pupil.minor')
    return t(yes ? 'configForm.condition.minor' : 'configForm.condition.adult')
  const id = condition.fact.slice('pupil.answers.'.length)
  const question = config.reenrolment.questions?.find((q) => q.id === id)
  return t(yes ? 'configForm.condition.answerYes' : 'configForm.condition.answerNo', {
    question: question?.label ?? id,
  })
}

function validityText(ctx: TenantContext, validity: RequiredDocument['validity']): string {
  if (typeof validity === 'object')
    return ctx.t('configForm.validity.untilDate', { date: formatDate(validity.until, ctx.config.timezone) })
  return ctx.t(`configForm.validity.${validity}`)
}

export function documentRows(ctx: TenantContext) {
  return (ctx.config.documents ?? []).map((d) => ({
    id: d.id,
    label: d.label,
    level: ctx.t(`configForm.level.${d.level}`),
    condition: conditionText(ctx, d.when),
    formats: d.accept.map((f) => ctx.t(`configForm.format.${f}`)).join(', '),
    maxSizeMb: d.maxSizeMb,
    validity: validityText(ctx, d.validity),
    archived: d.archived,
  }))
}

function documentAt(ctx: TenantContext, id: string): { index: number; document: RequiredDocument } {
  const index = (ctx.config.documents ?? []).findIndex((d) => d.id === id)
  if (index < 0) throw new NotFound()
  return { index, document: ctx.config.documents![index]! }
}

/** What the pièce's form offers: the tenant's disciplines, payment modes and questions. */
export function documentChoices(ctx: TenantContext) {
  return {
    disciplines: (ctx.config.disciplines ?? []).map((d) => ({ value: d.code, label: d.name })),
    modes: (ctx.config.paymentModes ?? []).map((m) => ({ value: m.id, label: m.label })),
    questions: (ctx.config.reenrolment.questions ?? []).map((q) => ({ value: q.id, label: q.label })),
    formats,
  }
}

/** The pièce's form as it opens; a new pièce starts with the schema's defaults. */
export function documentForm(ctx: TenantContext, id?: string) {
  const document: RequiredDocument = id
    ? documentAt(ctx, id).document
    : {
        id: '',
        label: '',
        level: 'pupil',
        accept: ['pdf', 'jpeg', 'png'],
        maxSizeMb: 2,
        validity: 'schoolYear',
        archived: false,
      }
  const when = document.when
  const kind = conditionKind(when)
  const values: FormInput = {
    label: document.label,
    help: document.help ?? '',
    level: document.level,
    condition: kind,
    maxSizeMb: String(document.maxSizeMb).replace('.', ','),
    validity: typeof document.validity === 'object' ? 'until' : document.validity,
    until: typeof document.validity === 'object' ? document.validity.until : '',
  }
  for (const format of document.accept) values[`accept-${format}`] = 'true'
  if (when && 'fact' in when) {
    const list = 'equals' in when ? [when.equals] : 'in' in when ? when.in : when.includesAny
    if (kind === 'disciplines') for (const code of list) values[`discipline-${code}`] = 'true'
    if (kind === 'paymentMode') for (const mode of list) values[`mode-${mode}`] = 'true'
    if (kind === 'resident' || kind === 'minor') values[kind] = String(list[0])
    if (kind === 'answer') {
      values.question = when.fact.slice('pupil.answers.'.length)
      values.answer = String(list[0])
    }
  }
  return {
    document,
    values,
    custom: kind === 'custom' ? conditionText(ctx, when) : undefined,
  }
}

const usesPupil = (condition: Condition): boolean =>
  'all' in condition
    ? condition.all.some(usesPupil)
    : 'any' in condition
      ? condition.any.some(usesPupil)
      : 'not' in condition
        ? usesPupil(condition.not)
        : condition.fact.startsWith('pupil.')

const yesNo = (value: string) => (value === 'true' ? true : value === 'false' ? false : undefined)

/** The condition the builder's fields say; `keep` for a condition only the YAML editor shows. */
function conditionFrom(
  ctx: TenantContext,
  input: FormInput,
  current: Condition | undefined,
): { when?: Condition | 'keep'; error?: string } {
  const { t } = ctx
  const choices = documentChoices(ctx)
  const kind = typed(input, 'condition') || 'always'
  switch (kind) {
    case 'always':
      return {}
    case 'disciplines': {
      const codes = choices.disciplines
        .map((d) => d.value)
        .filter((code) => ticked(input, `discipline-${code}`))
      if (codes.length === 0) return { error: t('configForm.condition.chooseDiscipline') }
      return { when: { fact: 'pupil.disciplines', includesAny: codes } }
    }
    case 'paymentMode': {
      const ids = choices.modes.map((m) => m.value).filter((id) => ticked(input, `mode-${id}`))
      if (ids.length === 0) return { error: t('configForm.condition.chooseMode') }
      return {
        when:
          ids.length === 1
            ? { fact: 'family.paymentMode', equals: ids[0]! }
            : { fact: 'family.paymentMode', in: ids },
      }
    }
    case 'resident':
    case 'minor': {
      const value = yesNo(typed(input, kind))
      if (value === undefined) return { error: t('configForm.condition.chooseYesNo') }
      return { when: { fact: kind === 'resident' ? 'family.resident' : 'pupil.minor', equals: value } }
    }
    case 'answer': {
      const question = typed(input, 'question')
      const value = yesNo(typed(input, 'answer'))
      if (!choices.questions.some((q) => q.value === question))
        return { error: t('configForm.condition.chooseQuestion') }
      if (value === undefined) return { error: t('configForm.condition.chooseYesNo') }
      return { when: { fact: `pupil.answers.${question}`, equals: value } }
    }
    case 'custom':
      if (conditionKind(current) === 'custom') return { when: 'keep' }
  }
  return { error: t('configForm.chooseOne') }
}

const documentFields: Record<string, string> = {
  label: 'label',
  help: 'help',
  level: 'level',
  when: 'condition',
  accept: 'accept',
  maxSizeMb: 'maxSizeMb',
  validity: 'validity',
}

const placeItem =
  (list: string, index: number, fields: Record<string, string>, whole?: string): Placer =>
  (path) => {
    if (path === list) return whole
    const match = new RegExp(`^${list}\\.(\\d+)\\.(\\w+)(\\.until)?`).exec(path)
    if (!match || Number(match[1]) !== index) return undefined
    return match[3] ? 'until' : fields[match[2]!]
  }

export async function saveDocument(ctx: SignedInContext, id: string | undefined, input: FormInput) {
  const { t } = ctx
  const found = id === undefined ? undefined : documentAt(ctx, id)
  const errors: FieldErrors = {}
  const label = typed(input, 'label')
  if (!label) errors.label = t('configForm.required')
  const help = typed(input, 'help')
  const level = typed(input, 'level')
  if (level !== 'family' && level !== 'pupil') errors.level = t('configForm.chooseOne')
  const { when, error } = conditionFrom(ctx, input, found?.document.when)
  if (error) errors.condition = error
  else if (level === 'family' && when && when !== 'keep' && usesPupil(when))
    errors.condition = t('configForm.condition.familyFacts')
  const accept = formats.filter((format) => ticked(input, `accept-${format}`))
  if (accept.length === 0) errors.accept = t('configForm.documents.chooseFormat')
  const size = typed(input, 'maxSizeMb').replace(',', '.')
  if (!size) errors.maxSizeMb = t('configForm.required')
  else if (!/^\d{1,3}(\.\d{1,3})?$/.test(size)) errors.maxSizeMb = t('configForm.documents.badSize')
  const validityKind = typed(input, 'validity')
  let validity: RequiredDocument['validity'] = 'schoolYear'
  if (validityKind === 'until') {
    const until = plainDate(typed(input, 'until'))
    if (until) validity = { until }
    else errors.until = typed(input, 'until') ? t('configForm.badDate') : t('configForm.required')
  } else if (validityKind === 'schoolYear' || validityKind === 'forever') validity = validityKind
  else errors.validity = t('configForm.chooseOne')
  if (Object.keys(errors).length > 0) return refused(errors)

  const source = await servedSource(ctx)
  const doc = parseDocument(source)
  const maxSizeMb = Number(size)
  if (!found) {
    const taken = new Set([...(ctx.config.documents ?? []).map((d) => d.id), ...reserved])
    const item: Record<string, unknown> = { id: identifierFrom(label, taken, 'piece'), label }
    if (help) item.help = help.includes('\n') ? `${help}\n` : help
    item.level = level
    if (when && when !== 'keep') item.when = when
    if (!sameList(accept, documentDefaults.accept)) item.accept = accept
    if (maxSizeMb !== documentDefaults.maxSizeMb) item.maxSizeMb = maxSizeMb
    if (validity !== documentDefaults.validity) item.validity = validity
    const node = doc.createNode(item)
    for (const key of ['when', 'accept', 'validity']) {
      const inner = node.get(key, true)
      if (isCollection(inner)) inner.flow = true
    }
    if (ctx.config.documents) doc.addIn(['documents'], node)
    else doc.setIn(['documents'], doc.createNode([item]))
    const index = ctx.config.documents?.length ?? 0
    return draftOf(ctx, 'documents', source, doc, placeItem('documents', index, documentFields))
  }
  const { index, document } = found
  const at = (key: string): Path => ['documents', index, key]
  if (label !== document.label) doc.setIn(at('label'), label)
  if (help !== (document.help ?? '').trim()) {
    if (help) setText(doc, at('help'), help)
    else doc.deleteIn(at('help'))
  }
  if (level !== document.level) doc.setIn(at('level'), level)
  if (when !== 'keep' && JSON.stringify(when) !== JSON.stringify(document.when)) {
    if (when) setFlow(doc, at('when'), when)
    else doc.deleteIn(at('when'))
  }
  if (!sameList(accept, document.accept)) setList(doc, at('accept'), accept)
  if (maxSizeMb !== document.maxSizeMb) doc.setIn(at('maxSizeMb'), maxSizeMb)
  if (JSON.stringify(validity) !== JSON.stringify(document.validity)) setFlow(doc, at('validity'), validity)
  return draftOf(ctx, 'documents', source, doc, placeItem('documents', index, documentFields))
}

/** Archived, a pièce is asked of nobody any more; families who provided it keep it. */
export async function archiveDocument(ctx: SignedInContext, id: string, archived: boolean) {
  const { index } = documentAt(ctx, id)
  const source = await servedSource(ctx)
  const doc = parseDocument(source)
  if (archived) doc.setIn(['documents', index, 'archived'], true)
  else doc.deleteIn(['documents', index, 'archived'])
  return draftOf(ctx, 'documents', source, doc, placeItem('documents', index, documentFields, 'delete'))
}

/** Removing a pièce: the core refuses it when families provided it (archive it instead). */
export async function deleteDocument(ctx: SignedInContext, id: string) {
  const { index } = documentAt(ctx, id)
  const source = await servedSource(ctx)
  const doc = parseDocument(source)
  deleteKey(doc, ['documents', index])
  return draftOf(ctx, 'documents', source, doc, placeItem('documents', index, documentFields, 'delete'))
}

// —— Payment modes ——

export function paymentRows(ctx: TenantContext) {
  return (ctx.config.paymentModes ?? []).map((m) => ({
    id: m.id,
    label: m.label,
    kind: ctx.t(`configForm.kind.${m.kind}`),
    instalments: m.instalments,
  }))
}

function modeAt(ctx: TenantContext, id: string): { index: number; mode: PaymentMode } {
  const index = (ctx.config.paymentModes ?? []).findIndex((m) => m.id === id)
  if (index < 0) throw new NotFound()
  return { index, mode: ctx.config.paymentModes![index]! }
}

export function paymentForm(ctx: TenantContext, id?: string) {
  const mode = id ? modeAt(ctx, id).mode : undefined
  const values: FormInput = {
    label: mode?.label ?? '',
    kind: mode?.kind ?? '',
    instalments: mode?.instalments === undefined ? '' : String(mode.instalments),
    help: mode?.help ?? '',
  }
  return { mode, values }
}

const modeFields: Record<string, string> = {
  label: 'label',
  kind: 'kind',
  instalments: 'instalments',
  help: 'help',
}

export async function savePaymentMode(ctx: SignedInContext, id: string | undefined, input: FormInput) {
  const { t } = ctx
  const found = id === undefined ? undefined : modeAt(ctx, id)
  const errors: FieldErrors = {}
  const label = typed(input, 'label')
  if (!label) errors.label = t('configForm.required')
  const kind = typed(input, 'kind') as PaymentMode['kind']
  if (!paymentKinds.includes(kind)) errors.kind = t('configForm.chooseOne')
  const count = typed(input, 'instalments')
  if (count && !/^\d{1,3}$/.test(count)) errors.instalments = t('configForm.payment.badInstalments')
  const help = typed(input, 'help')
  if (Object.keys(errors).length > 0) return refused(errors)
  const instalments = count ? Number(count) : undefined

  const source = await servedSource(ctx)
  const doc = parseDocument(source)
  if (!found) {
    const taken = new Set([...(ctx.config.paymentModes ?? []).map((m) => m.id), ...reserved])
    const item: Record<string, unknown> = { id: identifierFrom(label, taken, 'mode'), label, kind }
    if (instalments !== undefined) item.instalments = instalments
    if (help) item.help = help.includes('\n') ? `${help}\n` : help
    if (ctx.config.paymentModes) doc.addIn(['paymentModes'], item)
    else doc.setIn(['paymentModes'], [item])
    const index = ctx.config.paymentModes?.length ?? 0
    return draftOf(ctx, 'payment', source, doc, placeItem('paymentModes', index, modeFields))
  }
  const { index, mode } = found
  const at = (key: string): Path => ['paymentModes', index, key]
  if (label !== mode.label) doc.setIn(at('label'), label)
  if (kind !== mode.kind) doc.setIn(at('kind'), kind)
  if (instalments !== mode.instalments) {
    if (instalments === undefined) doc.deleteIn(at('instalments'))
    else doc.setIn(at('instalments'), instalments)
  }
  if (help !== (mode.help ?? '').trim()) {
    if (help) setText(doc, at('help'), help)
    else doc.deleteIn(at('help'))
  }
  return draftOf(ctx, 'payment', source, doc, placeItem('paymentModes', index, modeFields))
}

/** Removing a mode: the core refuses it when families chose it. */
export async function deletePaymentMode(ctx: SignedInContext, id: string) {
  const { index } = modeAt(ctx, id)
  const source = await servedSource(ctx)
  const doc = parseDocument(source)
  deleteKey(doc, ['paymentModes', index])
  return draftOf(ctx, 'payment', source, doc, placeItem('paymentModes', index, modeFields, 'delete'))
}
