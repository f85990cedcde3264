import { structuredPatch } from 'diff'
import { audit } from '../../platform/audit/audit.ts'
import type { SignedInContext, TenantContext } from '../../platform/auth/context.ts'
import type { Em } from '../../platform/db/orm.ts'
import { type ProblemCode, problemText } from '../../platform/tenancy/config-problems.ts'
import { TenantConfigDraft, TenantConfigVersion } from '../../platform/tenancy/entities.ts'
import type { Tenant, TenantRegistry } from '../../platform/tenancy/registry.ts'
import {
  type ConfigProblem,
  lineOfPath,
  parseTenantConfig,
  type TenantConfig,
} from '../../platform/tenancy/tenant-config.ts'

/** Longer than any real tenant file (Limonest's is 15 kB): a paste gone wrong is refused, not parsed. */
export const maxSourceLength = 200_000

export interface Checked {
  config?: TenantConfig
  problems: ConfigProblem[]
}

/** What checking and publishing need of a tenant: a page's context, or the CLI's own. */
export interface ConfigTarget {
  tenant: Pick<Tenant, 'slug' | 'schema' | 'config'>
  em: Em
}

const fileOf = (ctx: ConfigTarget) => `${ctx.tenant.slug}.yaml`

function found(
  ctx: ConfigTarget,
  source: string,
  path: (string | number)[],
  code: ProblemCode,
  params?: Record<string, string | number>,
): ConfigProblem {
  return {
    file: fileOf(ctx),
    path: path.join('.'),
    line: lineOfPath(source, path),
    code,
    params,
    message: problemText({ code, params }),
  }
}

/** Items of the served configuration that a new version no longer has, by their key. */
function removed<T>(before: T[] | undefined, after: T[] | undefined, key: (item: T) => string): T[] {
  const kept = new Set((after ?? []).map(key))
  return (before ?? []).filter((item) => !kept.has(key(item)))
}

/** Counts rows by value; `sql` has `in (?)`, one placeholder that becomes one per value. */
async function countsBy(em: Em, sql: string, values: string[]): Promise<Map<string, number>> {
  if (values.length === 0) return new Map()
  const placeholders = values.map(() => '?').join(', ')
  const rows = await em.execute<{ value: string; n: string | number }[]>(
    sql.replace('in (?)', `in (${placeholders})`),
    values,
  )
  return new Map(rows.map((row) => [row.value, Number(row.n)]))
}

/**
 * What a new version may not do to the tenant's data: remove a pièce families have provided (it is
 * archived instead), a discipline or a site that courses use, a payment mode families chose.
 * Hosts belong to the operator, who routes them (docs/decisions.md).
 */
async function dataProblems(ctx: ConfigTarget, source: string, next: TenantConfig): Promise<ConfigProblem[]> {
  const served = ctx.tenant.config
  const schema = ctx.tenant.schema
  const em = ctx.em
  const problems: ConfigProblem[] = []
  if (next.hosts.join(' ') !== served.hosts.join(' ')) {
    problems.push(found(ctx, source, ['hosts'], 'operatorHosts', { hosts: served.hosts.join(', ') || '[]' }))
  }
  const documents = removed(served.documents, next.documents, (d) => d.id)
  const provided = await countsBy(
    em,
    `select document_id as value, count(distinct family_id) as n from "${schema}".document_submission where document_id in (?) group by document_id`,
    documents.map((d) => d.id),
  )
  for (const document of documents) {
    const n = provided.get(document.id)
    if (n) problems.push(found(ctx, source, ['documents'], 'documentInUse', { label: document.label, n }))
  }
  const usedBy = async (column: string, values: string[]) =>
    countsBy(
      em,
      `select ${column} as value, count(*) as n from "${schema}".course where ${column} in (?) group by ${column}`,
      values,
    )
  const disciplines = removed(served.disciplines, next.disciplines, (d) => d.code)
  const taught = await usedBy(
    'discipline',
    disciplines.map((d) => d.code),
  )
  for (const discipline of disciplines) {
    const n = taught.get(discipline.code)
    if (n) problems.push(found(ctx, source, ['disciplines'], 'disciplineInUse', { name: discipline.name, n }))
  }
  const sites = removed(served.establishments, next.establishments, (e) => e.code)
  const hosting = await usedBy(
    'establishment',
    sites.map((e) => e.code),
  )
  for (const site of sites) {
    const n = hosting.get(site.code)
    if (n) problems.push(found(ctx, source, ['establishments'], 'establishmentInUse', { name: site.name, n }))
  }
  const modes = removed(served.paymentModes, next.paymentModes, (m) => m.id)
  const chosen = await countsBy(
    em,
    `select payment_mode as value, count(*) as n from "${schema}".family where payment_mode in (?) group by payment_mode`,
    modes.map((m) => m.id),
  )
  for (const mode of modes) {
    const n = chosen.get(mode.id)
    if (n) problems.push(found(ctx, source, ['paymentModes'], 'paymentModeInUse', { label: mode.label, n }))
  }
  return problems
}

/** A whole text checked as the boot checks a file, then against the tenant's data. */
export async function checkSource(ctx: ConfigTarget, source: string): Promise<Checked> {
  if (source.length > maxSourceLength) {
    return { problems: [found(ctx, '', [], 'tooLong', { limit: maxSourceLength })] }
  }
  const { config, problems } = parseTenantConfig(fileOf(ctx), source)
  if (!config) return { problems }
  const refused = await dataProblems(ctx, source, config)
  return refused.length > 0 ? { problems: refused } : { config, problems: [] }
}

export async function versionList(ctx: TenantContext) {
  return ctx.em.find(
    TenantConfigVersion,
    { tenant: ctx.tenant.slug },
    {
      fields: ['number', 'comment', 'authorName', 'restoredFrom', 'createdAt'],
      orderBy: { number: 'desc' },
    },
  )
}

export async function versionOf(ctx: TenantContext, number: number) {
  return ctx.em.findOne(TenantConfigVersion, { tenant: ctx.tenant.slug, number })
}

/** The version every server serves now, with its text. */
export async function servedVersion(ctx: TenantContext) {
  const number = ctx.tenant.configVersion
  return number === null ? null : versionOf(ctx, number)
}

export type DraftOrigin =
  | 'yaml'
  | 'restore'
  | 'periods'
  | 'texts'
  | 'documents'
  | 'payment'
  | 'fields'
  | 'steps'

/**
 * Checks a text and keeps it as the admin's draft, for the preview, or answers the problems. An admin
 * has one draft: a new one replaces theirs, and the forms and the editor continue it (workingDraft).
 * A draft is made from the version served now; publishing it refuses if another came in between.
 */
export async function createDraft(
  ctx: SignedInContext,
  source: string,
  origin: DraftOrigin,
  restoredFrom?: number,
): Promise<{ id: number } | { problems: ConfigProblem[] }> {
  const { problems } = await checkSource(ctx, source)
  if (problems.length > 0) return { problems }
  return ctx.em.transactional(async (em) => {
    await em.nativeDelete(TenantConfigDraft, { tenant: ctx.tenant.slug, authorId: ctx.account.id })
    const draft = em.create(TenantConfigDraft, {
      tenant: ctx.tenant.slug,
      baseNumber: ctx.tenant.configVersion ?? 0,
      source,
      origin,
      restoredFrom: restoredFrom ?? null,
      authorId: ctx.account.id,
      authorName: `${ctx.account.displayName} (${ctx.account.identifiant})`,
    })
    await em.flush()
    return { id: draft.id }
  })
}

/** The admin's draft made from the version served now, which the forms and the editor continue. */
export async function workingDraft(ctx: SignedInContext) {
  return ctx.em.findOne(
    TenantConfigDraft,
    { tenant: ctx.tenant.slug, authorId: ctx.account.id, baseNumber: ctx.tenant.configVersion ?? 0 },
    { orderBy: { id: 'desc' } },
  )
}

// the text a form edits when it continues a draft, kept beside the context the forms receive
const continued = new WeakMap<object, string>()

/** A context whose configuration is the admin's draft's: the forms show and edit the draft. */
export function continuing<C extends TenantContext>(
  ctx: C,
  draft: { source: string },
  config: TenantConfig,
): C {
  const next = { ...ctx, config }
  continued.set(next, draft.source)
  return next
}

/** The text a form edits: the draft it continues, else the served version's. */
export async function editedSource(ctx: TenantContext): Promise<string | undefined> {
  return continued.get(ctx) ?? (await servedVersion(ctx))?.source
}

/** A draft of this tenant (another tenant's id is not found). */
export async function draftOf(ctx: TenantContext, id: number) {
  return ctx.em.findOne(TenantConfigDraft, { id, tenant: ctx.tenant.slug })
}

export async function recentDrafts(ctx: TenantContext) {
  return ctx.em.find(
    TenantConfigDraft,
    { tenant: ctx.tenant.slug },
    {
      orderBy: { createdAt: 'desc' },
      limit: 10,
      fields: ['id', 'origin', 'authorName', 'createdAt', 'baseNumber'],
    },
  )
}

export async function discardDraft(ctx: SignedInContext, id: number): Promise<boolean> {
  return (await ctx.em.nativeDelete(TenantConfigDraft, { id, tenant: ctx.tenant.slug })) > 0
}

export type PublishResult =
  | { published: number }
  | { problems: ConfigProblem[] }
  | { conflict: number }
  | { missing: true }

interface Publication {
  source: string
  comment: string
  authorId: number | null
  authorName: string
  restoredFrom: number | null
  /** The version the text was made from: refused when another was published since. */
  baseNumber?: number
}

/**
 * Publishes a text as the next version, in the caller's transaction, holding the tenant's row: two
 * publications at once get one number each, never the same, and the text is checked again there.
 */
export async function publishSource(
  ctx: ConfigTarget,
  publication: Publication,
): Promise<
  { published: number; config: TenantConfig } | { problems: ConfigProblem[] } | { conflict: number }
> {
  const { em, tenant } = ctx
  const [row] = await em.execute<{ configVersion: number | null }[]>(
    'select config_version as "configVersion" from platform.tenant where slug = ? for update',
    [tenant.slug],
  )
  const current = row?.configVersion ?? 0
  if (publication.baseNumber !== undefined && current !== publication.baseNumber) return { conflict: current }
  const { config, problems } = await checkSource(ctx, publication.source)
  if (!config) return { problems }
  const number = current + 1
  em.create(TenantConfigVersion, {
    tenant: tenant.slug,
    number,
    source: publication.source,
    comment: publication.comment,
    authorId: publication.authorId,
    authorName: publication.authorName,
    restoredFrom: publication.restoredFrom,
  })
  await em.flush()
  await em.execute('update platform.tenant set config_version = ?, name = ? where slug = ?', [
    number,
    config.name,
    tenant.slug,
  ])
  return { published: number, config }
}

/**
 * Publishes a draft. This process serves the new version at once; the others within their refresh
 * interval (platform/tenancy/plugin.ts).
 */
export async function publishDraft(
  ctx: SignedInContext,
  registry: TenantRegistry,
  id: number,
  comment: string,
): Promise<PublishResult> {
  const result = await ctx.em.transactional(async (em) => {
    const draft = await em.findOne(TenantConfigDraft, { id, tenant: ctx.tenant.slug })
    if (!draft) return { missing: true as const }
    const published = await publishSource(
      { tenant: ctx.tenant, em },
      {
        source: draft.source,
        comment,
        authorId: ctx.account.id,
        authorName: draft.authorName,
        restoredFrom: draft.restoredFrom ?? null,
        baseNumber: draft.baseNumber,
      },
    )
    if ('published' in published) {
      audit(em, ctx.account, {
        action: 'config.published',
        subject: { type: 'config', id: published.published },
        details: { comment, origin: draft.origin, restoredFrom: draft.restoredFrom },
      })
      em.remove(draft)
      await em.flush()
    }
    return published
  })
  if ('published' in result) {
    registry.activate(ctx.tenant.slug, result.published, result.config)
    return { published: result.published }
  }
  return result
}

export interface DiffLine {
  kind: 'same' | 'added' | 'removed' | 'gap'
  before?: number
  after?: number
  text: string
}

/** The lines that differ between two texts, with three lines of context and their numbers. */
export function lineDiff(before: string, after: string): DiffLine[] {
  const patch = structuredPatch('', '', before, after, '', '', { context: 3 })
  const lines: DiffLine[] = []
  for (const [i, hunk] of patch.hunks.entries()) {
    if (i > 0 || hunk.oldStart > 1) lines.push({ kind: 'gap', text: '' })
    let oldLine = hunk.oldStart
    let newLine = hunk.newStart
    for (const line of hunk.lines) {
      const text = line.slice(1)
      if (line.startsWith('-')) lines.push({ kind: 'removed', before: oldLine++, text })
      else if (line.startsWith('+')) lines.push({ kind: 'added', after: newLine++, text })
      else if (line.startsWith(' ')) lines.push({ kind: 'same', before: oldLine++, after: newLine++, text })
    }
  }
  return lines
}
