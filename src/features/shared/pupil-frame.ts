import type { TenantContext } from '../../platform/auth/context.ts'
import type { MessageKey } from '../../platform/views/i18n.ts'
import type { Household } from '../family/service.ts'
import { campaignOf } from '../reenrolment/service.ts'

/*
 * The frame of a pupil's file (templates/shared/pupil-frame.njk): the chooser, the pupil's name and
 * the tabs, around the pupils', documents' and re-enrolment's pages.
 */

const tabs = [
  { id: 'identite', path: '', label: 'pupil.tab.identity' },
  { id: 'cours', path: '/cours', label: 'pupil.tab.courses' },
  { id: 'historique', path: '/historique', label: 'pupil.tab.history' },
  { id: 'repertoire', path: '/repertoire', label: 'pupil.tab.repertoire' },
  { id: 'pieces', path: '/pieces', label: 'pupil.tab.documents' },
  { id: 'reinscription', path: '/reinscription', label: 'pupil.tab.reenrolment' },
  { id: 'places', path: '/places', label: 'pupil.tab.places' },
] as const satisfies readonly { id: string; path: string; label: MessageKey }[]
export type Tab = (typeof tabs)[number]['id']

/** What every tab of a pupil's file shows above its content, from the household the page read. */
export function pupilFrame(
  ctx: Pick<TenantContext, 'config' | 't'>,
  household: Household,
  pupil: { id: number; firstName: string; lastName: string },
  tab: Tab,
) {
  const asksForPlaces = household.pupils.find((p) => p.id === pupil.id)?.asksForPlaces
  return {
    pupil,
    tab,
    // the Réinscription tab shows only while the re-enrolment is open, as in iMuse
    tabs: tabs
      .filter((t) => t.id !== 'reinscription' || campaignOf(ctx.config)?.open)
      .filter((t) => t.id !== 'places' || asksForPlaces)
      .map((t) => ({ ...t, href: `/eleves/${pupil.id}${t.path}`, label: ctx.t(t.label) })),
    siblings: household.pupils.map((p) => ({ id: p.id, name: `${p.firstName} ${p.lastName}` })),
    title: `${pupil.firstName} ${pupil.lastName}`,
  }
}
