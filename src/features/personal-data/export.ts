import { PassThrough, type Readable } from 'node:stream'
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate'
import type { SignedInContext } from '../../platform/auth/context.ts'
import { audit } from '../../platform/audit/audit.ts'
import { NotFound } from '../../platform/http/errors.ts'
import { DocumentSubmission } from '../documents/entities.ts'
import { fileContent } from '../documents/service.ts'
import { type Family, Guardian } from '../family/entities.ts'
import { Preregistration } from '../preregistration/entities.ts'
import { Pupil } from '../pupils/entities.ts'
import { Reenrolment } from '../reenrolment/entities.ts'
import { RepertoireEntry, RepertoirePiece } from '../repertoire/entities.ts'
import { ChangeRequest } from '../sas/entities.ts'
import { AbsenceNotice, Attendance } from '../lessons/entities.ts'
import { Enrolment, Evaluation } from '../teaching/entities.ts'

/*
 * "Télécharger mes données": everything the conservatoire holds about the signed-in account's
 * family, as `donnees.json` (French keys, documented in docs/decisions.md), `resume.html` (the same
 * for people) and the stored files under `pieces/`. Only what the family's own rows reach is read:
 * its guardians, their accounts, its pupils and what hangs from them. Staff's identities are left
 * out (a decision says when, not who); password hashes and link tokens never leave the database.
 */

const iso = (value: Date | string | null | undefined) =>
  value == null ? null : value instanceof Date ? value.toISOString() : value

/** A file name safe in a ZIP on every system: no folders, no control or reserved characters. */
function safeName(name: string): string {
  const cleaned = name
    .replace(/[\p{Cc}/\\:*?"<>|]/gu, '_')
    .replace(/^\.+/, '_')
    .trim()
  return cleaned.slice(0, 150) || 'fichier'
}

function personOf(row: Guardian | Pupil) {
  return {
    civilite: row.civility ?? null,
    nom: row.lastName,
    prenom: row.firstName,
    dateDeNaissance: row.birthDate ?? null,
    lieuDeNaissance: row.birthPlace ?? null,
    departementDeNaissance: row.birthDepartment ?? null,
    adresse: row.address ?? null,
    codePostal: row.postalCode ?? null,
    ville: row.city ?? null,
    telephoneDomicile: row.phoneHome ?? null,
    telephonePortable: row.phoneMobile ?? null,
    email: row.email ?? null,
  }
}

/** What the family's export holds, before it is written out. */
export async function familyData(ctx: SignedInContext) {
  const { em, config, account } = ctx
  const own = await em.findOne(Guardian, { account: account.id }, { populate: ['family'] })
  if (!own) throw new NotFound()
  const family: Family = own.family
  const guardians = await em.find(Guardian, { family }, { populate: ['account'], orderBy: { rank: 'asc' } })
  const pupils = await em.find(Pupil, { family }, { orderBy: { birthDate: 'asc', id: 'asc' } })
  const enrolments = await em.find(
    Enrolment,
    { pupil: { family } },
    {
      populate: ['course', 'course.schoolYear', 'course.teacher'],
      orderBy: { course: { schoolYear: { startsOn: 'asc' }, name: 'asc' } },
    },
  )
  const evaluations = await em.find(
    Evaluation,
    { enrolment: { pupil: { family } } },
    { orderBy: { givenOn: 'asc', id: 'asc' } },
  )
  // the register's absences (absent, late, excused) and those the family announced
  const attendance = await em.find(
    Attendance,
    { enrolment: { pupil: { family } }, status: { $ne: 'present' } },
    { populate: ['lesson'], orderBy: { lesson: { on: 'asc' }, id: 'asc' } },
  )
  const notices = await em.find(
    AbsenceNotice,
    { enrolment: { pupil: { family } } },
    { populate: ['lesson'], orderBy: { lesson: { on: 'asc' }, id: 'asc' } },
  )
  const repertoire = await em.find(
    RepertoireEntry,
    { pupil: { family } },
    { populate: ['event'], orderBy: { event: { heldOn: 'asc' }, id: 'asc' } },
  )
  const pieces = await em.find(
    RepertoirePiece,
    { pupil: { family } },
    { populate: ['course', 'addedBy'], orderBy: { startedOn: 'asc', id: 'asc' } },
  )
  const submissions = await em.find(
    DocumentSubmission,
    { family },
    { populate: ['file'], orderBy: { createdAt: 'asc', id: 'asc' } },
  )
  const changes = await em.find(ChangeRequest, { family }, { orderBy: { createdAt: 'asc', id: 'asc' } })
  const reenrolments = await em.find(Reenrolment, { family }, { orderBy: { createdAt: 'asc', id: 'asc' } })
  const preregistrations = await em.find(Preregistration, { family }, { orderBy: { createdAt: 'asc' } })

  const pupilName = new Map(pupils.map((p) => [p.id, `${p.firstName} ${p.lastName}`]))
  const guardianName = new Map(guardians.map((g) => [g.id, `${g.firstName} ${g.lastName}`]))
  const documentLabel = new Map((config.documents ?? []).map((d) => [d.id, d.label]))
  const disciplineName = new Map((config.disciplines ?? []).map((d) => [d.code, d.name]))
  const establishmentName = new Map(config.establishments.map((e) => [e.code, e.name]))
  const files = submissions.map((s) => ({
    fileId: s.file.id,
    path: `pieces/${s.id}-${safeName(s.file.fileName)}`,
  }))

  const data = {
    conservatoire: config.name,
    exporteLe: new Date().toISOString(),
    famille: {
      numero: family.id,
      resident: family.resident,
      quotientFamilial: family.quotientBracket ?? null,
      modeDePaiement:
        config.paymentModes?.find((m) => m.id === family.paymentMode)?.label ?? family.paymentMode ?? null,
      creeLe: iso(family.createdAt),
      archiveeLe: iso(family.archivedAt),
    },
    responsables: guardians.map((g) => ({
      rang: g.rank,
      ...personOf(g),
      telephoneTravail: g.phoneWork ?? null,
      autresTelephones: g.extraPhones,
      situationFamiliale: g.familySituation ?? null,
      categorieSocioProfessionnelle: g.socioProfessionalCategory ?? null,
      profession: g.profession ?? null,
    })),
    comptes: guardians
      .filter((g) => g.account)
      .map((g) => ({
        identifiant: g.account!.identifiant,
        responsable: guardianName.get(g.id),
        email: g.account!.email,
        nomAffiche: g.account!.displayName,
        desactive: g.account!.disabled,
        creeLe: iso(g.account!.createdAt),
        derniereConnexion: iso(g.account!.lastSignInAt),
      })),
    eleves: pupils.map((p) => ({
      numero: p.id,
      ...personOf(p),
      adresseDuResponsable: p.useGuardianAddress,
      niveauScolaire: p.schoolLevel ?? null,
      etablissementScolaire: p.school ?? null,
      droitAImage: p.imageRights ?? null,
      autorisationDeSortie: p.exitAuthorization ?? null,
      personneAPrevenir: p.emergencyContact ?? null,
      telephoneAPrevenir: p.emergencyPhone ?? null,
      cours: enrolments
        .filter((e) => e.pupil.id === p.id)
        .map((e) => ({
          anneeScolaire: e.course.schoolYear.label,
          cours: e.course.name,
          discipline: disciplineName.get(e.course.discipline) ?? e.course.discipline,
          niveau: e.course.cycle ?? null,
          site: establishmentName.get(e.course.establishment) ?? e.course.establishment,
          enseignant: e.course.teacher ? `${e.course.teacher.firstName} ${e.course.teacher.lastName}` : null,
          creneau: e.course.slot ?? null,
          salle: e.course.room ?? null,
          actif: e.active,
          evaluations: evaluations
            .filter((v) => v.enrolment.id === e.id)
            .map((v) => ({
              periode: v.term,
              date: v.givenOn,
              appreciation: v.appreciation,
              note: v.grade ?? null,
            })),
          absences: attendance
            .filter((a) => a.enrolment.id === e.id)
            .map((a) => ({
              date: a.lesson.movedOn ?? a.lesson.on,
              statut: a.status,
              motif:
                notices.find((n) => n.lesson.id === a.lesson.id && n.enrolment.id === e.id)?.reason ?? null,
            })),
          absencesSignalees: notices
            .filter((n) => n.enrolment.id === e.id)
            .map((n) => ({ date: n.lesson.movedOn ?? n.lesson.on, motif: n.reason })),
        })),
      repertoire: repertoire
        .filter((r) => r.pupil.id === p.id)
        .map((r) => ({
          evenement: r.event.title,
          date: r.event.heldOn,
          lieu: r.event.place ?? null,
          oeuvre: r.piece,
          auteur: r.author ?? null,
          partie: r.part ?? null,
        })),
      piecesTravaillees: pieces
        .filter((piece) => piece.pupil.id === p.id)
        .map((piece) => ({
          titre: piece.title,
          compositeur: piece.composer ?? null,
          periode: piece.period ?? null,
          commenceeLe: piece.startedOn,
          etat: piece.state === 'performed' ? 'jouee' : 'en-cours',
          joueeLe: piece.performedOn ?? null,
          cours: piece.course?.name ?? null,
          enseignant: piece.addedBy ? `${piece.addedBy.firstName} ${piece.addedBy.lastName}` : null,
        })),
    })),
    documents: submissions.map((s, i) => ({
      piece: documentLabel.get(s.documentId) ?? s.documentId,
      eleve: s.pupil ? (pupilName.get(s.pupil.id) ?? null) : null,
      etat: s.state,
      motif: s.reason ?? null,
      envoyeLe: iso(s.createdAt),
      decideLe: iso(s.decidedAt),
      valableJusquau: s.validUntil ?? null,
      fichier: {
        nom: s.file.fileName,
        type: s.file.contentType,
        taille: s.file.size,
        sha256: s.file.sha256,
        chemin: files[i]!.path,
      },
    })),
    modifications: changes.map((c) => ({
      sujet:
        c.subjectType === 'guardian'
          ? (guardianName.get(c.subjectId) ?? null)
          : (pupilName.get(c.subjectId) ?? null),
      type: c.subjectType === 'guardian' ? 'responsable' : 'eleve',
      statut: c.status,
      proposeeLe: iso(c.createdAt),
      modifieeLe: iso(c.updatedAt),
      decideeLe: iso(c.decidedAt),
      champs: Object.fromEntries(
        Object.entries(c.changes).map(([field, change]) => [
          field,
          {
            avant: change.before,
            apres: change.after,
            decision: change.decision ?? null,
            motif: change.reason ?? null,
          },
        ]),
      ),
    })),
    reinscriptions: reenrolments.map((r) => ({
      eleve: pupilName.get(r.pupil.id) ?? null,
      anneeScolaire: r.schoolYear,
      statut: r.status,
      etape: r.step ?? null,
      reponses: r.answers,
      soumiseLe: iso(r.submittedAt),
      refuseeParLaFamilleLe: iso(r.declinedAt),
      decideeLe: iso(r.decidedAt),
      motif: r.reason ?? null,
    })),
    preinscriptions: preregistrations.map((d) => ({
      numero: d.id,
      statut: d.status,
      email: d.email,
      responsables: d.guardians,
      eleves: d.applicants.map((a) => ({
        ...a.values,
        choix: a.choices.map((code) => disciplineName.get(code) ?? code),
        texteLibre: a.freeText,
      })),
      enregistreeLe: iso(d.savedAt),
      confirmeeLe: iso(d.confirmedAt),
      decideeLe: iso(d.decidedAt),
      message: d.reason ?? null,
    })),
  }
  return { familyId: family.id, data, files }
}

export type FamilyData = Awaited<ReturnType<typeof familyData>>

/** Records that the family downloaded its data (counts only), for staff's history of the family. */
export async function auditExport(ctx: SignedInContext, exported: FamilyData) {
  audit(ctx.em, ctx.account, {
    action: 'family.exported',
    subject: { type: 'family', id: exported.familyId },
    details: { pupils: exported.data.eleves.length, files: exported.files.length },
  })
  await ctx.em.flush()
}

/**
 * The ZIP, streamed: the JSON and the summary are compressed, the files (PDF, JPEG, PNG, already
 * compressed) stored as they are, read from the database one at a time while the archive is sent.
 */
export function zipStream(ctx: SignedInContext, exported: FamilyData, summary: string): Readable {
  const out = new PassThrough()
  const zip = new Zip((error, chunk, final) => {
    if (error) return out.destroy(error)
    out.write(chunk)
    if (final) out.end()
  })
  const mtime = new Date()
  const text = (name: string, content: string) => {
    const entry = new ZipDeflate(name, { level: 6 })
    entry.mtime = mtime
    zip.add(entry)
    entry.push(new TextEncoder().encode(content), true)
  }
  const write = async () => {
    text('donnees.json', `${JSON.stringify(exported.data, null, 2)}\n`)
    text('resume.html', summary)
    for (const file of exported.files) {
      const entry = new ZipPassThrough(file.path)
      entry.mtime = mtime
      zip.add(entry)
      entry.push(await fileContent(ctx.db, file.fileId), true)
      // the archive goes out at the client's pace: wait while it has not taken what is written
      if (out.writableNeedDrain) await new Promise((resolve) => out.once('drain', resolve))
    }
    zip.end()
  }
  write().catch((error: unknown) => out.destroy(error as Error))
  return out
}
