import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { AuditEvent } from '../../platform/audit/entities.ts'
import type { Orm } from '../../platform/db/orm.ts'
import { schemaFor } from '../../platform/tenancy/registry.ts'
import { type ConfigProblem, parseTenantConfig } from '../../platform/tenancy/tenant-config.ts'
import { tenantStates, versionSource } from '../../platform/tenancy/versions.ts'
import { publishSource } from './service.ts'

/** The published text of a provisioned tenant, with its number; undefined when it has none. */
export async function servedSource(
  orm: Orm,
  slug: string,
): Promise<{ number: number; source: string } | undefined> {
  const em = orm.em.fork()
  const state = (await tenantStates(em)).find((s) => s.slug === slug)
  if (!state?.configVersion) return undefined
  const source = await versionSource(em, slug, state.configVersion)
  return source === undefined ? undefined : { number: state.configVersion, source }
}

/**
 * `tenant config import`: a YAML file published as the tenant's next version, through the checks of
 * the portal's editor (schema, cross-checks, data in use), by the operator, audited in the tenant.
 * Hosts are compared with the tenant's file, which routes the tenant.
 */
export async function importConfig(
  orm: Orm,
  tenantsDir: string,
  slug: string,
  source: string,
  comment: string,
): Promise<{ published: number } | { problems: ConfigProblem[] } | { conflict: number } | { missing: true }> {
  const served = await servedSource(orm, slug)
  if (!served) return { missing: true }
  const parsed = parseTenantConfig(`${slug}.yaml`, served.source).config
  if (!parsed)
    throw new Error(`the published version ${served.number} of ${slug} no longer passes the checks`)
  const file = join(tenantsDir, `${slug}.yaml`)
  const hosts = existsSync(file)
    ? (parseTenantConfig(`${slug}.yaml`, readFileSync(file, 'utf8')).config?.hosts ?? parsed.hosts)
    : parsed.hosts
  const schema = schemaFor(slug)
  return orm.em.fork({ schema }).transactional(async (em) => {
    const result = await publishSource(
      { tenant: { slug, schema, config: { ...parsed, hosts } }, em },
      {
        source,
        comment,
        authorId: null,
        authorName: 'tutti tenant config import',
        restoredFrom: null,
        baseNumber: served.number,
      },
    )
    if (!('published' in result)) return result
    em.persist(
      em.create(AuditEvent, {
        actor: null,
        actorName: 'tutti tenant config import',
        action: 'config.published',
        subjectType: 'config',
        subjectId: result.published,
        details: { comment, origin: 'cli', restoredFrom: null },
      }),
    )
    await em.flush()
    return { published: result.published }
  })
}
