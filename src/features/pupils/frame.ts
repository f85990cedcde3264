import type { FastifyRequest } from 'fastify'
import { NotFound } from '../../platform/http/errors.ts'
import type { MessageKey } from '../../platform/views/i18n.ts'
import { accountPupils } from '../family/service.ts'
import { campaignOf } from '../reenrolment/service.ts'
import type { Pupil } from './entities.ts'

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
  const siblings = await accountPupils(request.em, request.account!)
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
  const pupil = (await accountPupils(request.em, request.account!)).find((p) => p.id === id)
  if (!pupil) throw new NotFound()
  return pupil
}
