import type { FastifyRequest } from 'fastify'
import type { MessageKey } from '../../platform/views/i18n.ts'
import { familyOf, pupilsOf } from '../family/service.ts'
import { campaignOf } from '../reenrolment/service.ts'
import type { Pupil } from './entities.ts'
import { familyPupil } from './service.ts'

const tabs = [
  { id: 'identite', path: '', label: 'pupil.tab.identity' },
  { id: 'cours', path: '/cours', label: 'pupil.tab.courses' },
  { id: 'historique', path: '/historique', label: 'pupil.tab.history' },
  { id: 'repertoire', path: '/repertoire', label: 'pupil.tab.repertoire' },
  { id: 'pieces', path: '/pieces', label: 'pupil.tab.documents' },
  { id: 'reinscription', path: '/reinscription', label: 'pupil.tab.reenrolment' },
] as const satisfies readonly { id: string; path: string; label: MessageKey }[]
export type Tab = (typeof tabs)[number]['id']

/** What every tab of a pupil's file shows above its content: the chooser, the pupil's name and the tabs. */
export async function pupilFrame(request: FastifyRequest, pupil: Pupil, tab: Tab) {
  const family = await familyOf(request.em, request.account!)
  const siblings = await pupilsOf(request.em, family)
  return {
    pupil,
    tab,
    // the Réinscription tab shows only while the re-enrolment is open, as in iMuse
    tabs: tabs
      .filter((t) => t.id !== 'reinscription' || campaignOf(request.tenant!.config)?.open)
      .map((t) => ({ ...t, href: `/eleves/${pupil.id}${t.path}`, label: request.t(t.label) })),
    siblings: siblings.map((p) => ({ id: p.id, name: `${p.firstName} ${p.lastName}` })),
    title: `${pupil.firstName} ${pupil.lastName}`,
  }
}

/** One of the signed-in family's pupils; another family's is a 404. */
export async function ownPupil(request: FastifyRequest, id: number): Promise<Pupil> {
  return familyPupil(request.em, await familyOf(request.em, request.account!), id)
}
