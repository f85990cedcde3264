import { parseDocument } from 'yaml'
import { publishSource } from '../features/configuration/service.ts'
import { printEdited, setText } from '../features/configuration/yaml-edit.ts'
import { audit } from '../platform/audit/audit.ts'
import { actorOf } from '../platform/auth/sessions.ts'
import { Account } from '../platform/auth/entities.ts'
import type { Orm } from '../platform/db/orm.ts'
import { TenantConfigDraft, TenantConfigVersion } from '../platform/tenancy/entities.ts'
import { schemaFor } from '../platform/tenancy/registry.ts'
import type { TenantConfig } from '../platform/tenancy/tenant-config.ts'
import { versionSource } from '../platform/tenancy/versions.ts'

/** A bound written relatively (`today+45`) moved by some days; an absolute one is left alone. */
function later(bound: unknown, days: number): string | undefined {
  const match = typeof bound === 'string' ? /^today([+-]\d+)?$/.exec(bound) : null
  if (!match) return undefined
  const n = Number(match[1] ?? 0) + days
  return n === 0 ? 'today' : `today${n > 0 ? '+' : ''}${n}`
}

/**
 * A configuration history to look at in each demo conservatoire: demo-admin published a second
 * version (re-enrolment closing a week later, or a line added to the home text), and left a draft
 * adding a line to the home text, to compare, preview and publish. Written once.
 */
export async function seedDemoConfigHistory(orm: Orm, configs: TenantConfig[]): Promise<void> {
  for (const config of configs) {
    const schema = schemaFor(config.slug)
    const em = orm.em.fork({ schema })
    if ((await em.count(TenantConfigVersion, { tenant: config.slug })) !== 1) continue
    const admin = await em.findOne(Account, { identifiant: 'demo-admin' })
    const source = await versionSource(em, config.slug, 1)
    if (!admin || source === undefined) continue

    const doc = parseDocument(source)
    const closes = later(doc.getIn(['periods', 'reenrolment', 'closes']), 7)
    let comment = 'Réinscriptions : clôture repoussée d’une semaine, à la demande des familles'
    if (closes) doc.setIn(['periods', 'reenrolment', 'closes'], closes)
    else {
      comment = 'Accueil : rappel des horaires du secrétariat'
      setText(doc, ['texts', 'home'], `${config.texts?.home?.trim() ?? ''}\n\n${secretariatHours}`.trim())
    }
    const edited = printEdited(source, doc)
    await em.transactional(async (tx) => {
      const result = await publishSource(
        { tenant: { slug: config.slug, schema, config }, em: tx },
        {
          source: edited,
          comment,
          authorId: admin.id,
          authorName: `${admin.displayName} (${admin.identifiant})`,
          restoredFrom: null,
        },
      )
      if (!('published' in result))
        throw new Error(`demo version of ${config.slug}: ${JSON.stringify(result)}`)
      audit(tx, actorOf(admin), {
        action: 'config.published',
        subject: { type: 'config', id: result.published },
        details: { comment, origin: closes ? 'periods' : 'texts', restoredFrom: null },
      })
      const next = parseDocument(edited)
      const home = String(next.getIn(['texts', 'home']) ?? '').trim()
      setText(next, ['texts', 'home'], `${home}\n\n${holidayNotice}`.trim())
      tx.create(TenantConfigDraft, {
        tenant: config.slug,
        baseNumber: result.published,
        source: printEdited(edited, next),
        origin: 'texts',
        restoredFrom: null,
        authorId: admin.id,
        authorName: `${admin.displayName} (${admin.identifiant})`,
      })
      await tx.flush()
    })
  }
}

const secretariatHours = 'Le secrétariat vous répond du lundi au vendredi, de 9 h à 12 h et de 14 h à 18 h.'
const holidayNotice = 'Pas de cours pendant les vacances scolaires : reprise le lundi suivant.'
