import type { PiecePeriod } from '../features/repertoire/entities.ts'
import { RepertoirePiece } from '../features/repertoire/entities.ts'
import { Enrolment, SchoolYear } from '../features/teaching/entities.ts'
import type { Orm } from '../platform/db/orm.ts'
import { schemaFor } from '../platform/tenancy/registry.ts'
import type { TenantConfig } from '../platform/tenancy/tenant-config.ts'
import { localDate } from './calendar.ts'
import { random } from './random.ts'

/*
 * The pieces demo pupils work this year, as their teachers added them: one to three per pupil of an
 * instrument, choir or orchestra course, the first often performed already. Drawn from what first-
 * and second-cycle pupils play in French conservatoires, by discipline code.
 */

type Work = [title: string, composer: string, period: PiecePeriod]

const works: Record<string, Work[]> = {
  piano: [
    ['Menuet en sol majeur', 'Christian Petzold', 'baroque'],
    ['Prélude en do majeur BWV 846', 'Jean-Sébastien Bach', 'baroque'],
    ['Sonatine op. 36 n° 1', 'Muzio Clementi', 'classique'],
    ['Le Gai Laboureur (Album pour la jeunesse)', 'Robert Schumann', 'romantique'],
    ['Chanson triste (Album pour enfants)', 'Piotr Ilitch Tchaïkovski', 'romantique'],
    ['Gymnopédie n° 1', 'Erik Satie', 'xxe'],
    ['The Little Shepherd (Children’s Corner)', 'Claude Debussy', 'xxe'],
    ['Toccatina op. 27 n° 12', 'Dmitri Kabalevski', 'xxe'],
  ],
  violon: [
    ['Concerto en la mineur RV 356, 1er mouvement', 'Antonio Vivaldi', 'baroque'],
    ['Gavotte', 'François-Joseph Gossec', 'classique'],
    ['Concerto élève n° 2, 1er mouvement', 'Friedrich Seitz', 'romantique'],
    ['Concerto en si mineur op. 35', 'Oskar Rieding', 'romantique'],
    ['Méditation de Thaïs', 'Jules Massenet', 'romantique'],
    ['La Bourrée d’Auvergne', 'Traditionnel', 'traditionnel'],
  ],
  violoncelle: [
    ['Suite n° 1 BWV 1007, Prélude', 'Jean-Sébastien Bach', 'baroque'],
    ['Sonate en mi mineur', 'Benedetto Marcello', 'baroque'],
    ['Sonate en do majeur op. 40 n° 1', 'Jean-Baptiste Bréval', 'classique'],
    ['Le Cygne (Le Carnaval des animaux)', 'Camille Saint-Saëns', 'romantique'],
    ['Élégie op. 24', 'Gabriel Fauré', 'romantique'],
  ],
  alto: [
    ['Concerto en sol majeur TWV 51:G9, 1er mouvement', 'Georg Philipp Telemann', 'baroque'],
    ['Sonate en do mineur', 'Henry Eccles', 'baroque'],
    ['Romance op. 85', 'Max Bruch', 'romantique'],
    ['Pièce de concours', 'Henri Büsser', 'xxe'],
  ],
  'flute-traversiere': [
    ['Badinerie (Suite n° 2 BWV 1067)', 'Jean-Sébastien Bach', 'baroque'],
    ['Danse des esprits bienheureux (Orphée)', 'Christoph Willibald Gluck', 'classique'],
    ['Andante en do majeur K. 315', 'Wolfgang Amadeus Mozart', 'classique'],
    ['Sicilienne op. 78', 'Gabriel Fauré', 'romantique'],
    ['Menuet (L’Arlésienne)', 'Georges Bizet', 'romantique'],
    ['Syrinx', 'Claude Debussy', 'xxe'],
  ],
  clarinette: [
    ['Concerto K. 622, Adagio', 'Wolfgang Amadeus Mozart', 'classique'],
    ['Concertino op. 26', 'Carl Maria von Weber', 'romantique'],
    ['Canzonetta op. 19', 'Gabriel Pierné', 'romantique'],
    ['Sonate, 2e mouvement (Romanza)', 'Francis Poulenc', 'xxe'],
    ['Der Heyser Bulgar', 'Traditionnel klezmer', 'traditionnel'],
  ],
  saxophone: [
    ['Fantaisie sur un thème original', 'Jules Demersseman', 'romantique'],
    ['Aria', 'Eugène Bozza', 'xxe'],
    ['Chanson et Passepied', 'Jean Rueff', 'xxe'],
    ['Summertime', 'George Gershwin', 'jazz'],
    ['Take Five', 'Paul Desmond', 'jazz'],
  ],
  trompette: [
    ['Trumpet Voluntary', 'Jeremiah Clarke', 'baroque'],
    ['Trumpet Tune', 'Henry Purcell', 'baroque'],
    ['Concerto en mi bémol, 3e mouvement', 'Joseph Haydn', 'classique'],
    ['Le Carnaval de Venise', 'Jean-Baptiste Arban', 'romantique'],
    ['When the Saints Go Marching In', 'Traditionnel', 'jazz'],
  ],
  guitare: [
    ['Étude en si mineur op. 35 n° 22', 'Fernando Sor', 'classique'],
    ['Étude op. 60 n° 7', 'Matteo Carcassi', 'romantique'],
    ['Lágrima', 'Francisco Tárrega', 'romantique'],
    ['Romance (Jeux interdits)', 'Anonyme', 'traditionnel'],
    ['Prélude n° 1', 'Heitor Villa-Lobos', 'xxe'],
    ['Études simples n° 1 à 5', 'Leo Brouwer', 'contemporain'],
  ],
  batterie: [
    ['Billie Jean', 'Michael Jackson', 'musiques-actuelles'],
    ['Come Together', 'The Beatles', 'musiques-actuelles'],
    ['Seven Nation Army', 'The White Stripes', 'musiques-actuelles'],
    ['Take Five', 'Paul Desmond', 'jazz'],
  ],
  chorale: [
    ['Ave verum corpus K. 618', 'Wolfgang Amadeus Mozart', 'classique'],
    ['Cantique de Jean Racine', 'Gabriel Fauré', 'romantique'],
    ['Le Chant des oyseaux', 'Clément Janequin', 'medieval-renaissance'],
    ['Vois sur ton chemin (Les Choristes)', 'Bruno Coulais', 'contemporain'],
  ],
  'choeur-domin-ut': [
    ['Mille regretz', 'Josquin des Prés', 'medieval-renaissance'],
    ['Cantique de Jean Racine', 'Gabriel Fauré', 'romantique'],
    ['Vois sur ton chemin (Les Choristes)', 'Bruno Coulais', 'contemporain'],
    ['Le Temps des cerises', 'Jean-Baptiste Clément et Antoine Renard', 'traditionnel'],
  ],
  orchestre: [
    ['Canon en ré', 'Johann Pachelbel', 'baroque'],
    ['Danses populaires roumaines', 'Béla Bartók', 'xxe'],
    ['La Marche de Radetzky', 'Johann Strauss père', 'romantique'],
  ],
  'orchestre-cordes': [
    ['Le Printemps (Les Quatre Saisons), 1er mouvement', 'Antonio Vivaldi', 'baroque'],
    ['Sérénade pour cordes, 2e mouvement', 'Edward Elgar', 'romantique'],
    ['Simple Symphony, Playful Pizzicato', 'Benjamin Britten', 'xxe'],
  ],
}

const dayMs = 86_400_000
const plusDays = (date: string, days: number) =>
  new Date(new Date(`${date}T00:00:00Z`).getTime() + days * dayMs).toISOString().slice(0, 10)
// ISO dates sort as they follow each other
const earliest = (...dates: string[]) => dates.sort()[0]!

/**
 * Seeds each demo tenant's pieces once (a tenant that has some is left as it is), for the current
 * year's active enrolments in the courses above; the course's teacher added them.
 */
export async function seedDemoRepertoirePieces(orm: Orm, configs: TenantConfig[], now = new Date()) {
  for (const config of configs) {
    const em = orm.em.fork({ schema: schemaFor(config.slug) })
    if ((await em.count(RepertoirePiece)) > 0) continue
    const year = await em.findOne(SchoolYear, { current: true })
    if (!year) continue
    const today = localDate(now, config.timezone)
    const enrolments = await em.find(
      Enrolment,
      { active: true, course: { schoolYear: year, teacher: { $ne: null } } },
      { populate: ['course'], orderBy: { id: 'asc' } },
    )
    const rng = random(`${config.slug}/repertoire-pieces`)
    for (const enrolment of enrolments) {
      const list = works[enrolment.course.discipline]
      if (!list) continue
      const draw = rng.deck(list)
      const count = rng.int(1, 3)
      for (let i = 0; i < count; i++) {
        const [title, composer, period] = draw()
        // the first piece from September, the others as the year goes; never a day to come
        const startedOn =
          i === 0
            ? earliest(plusDays(year.startsOn, rng.int(7, 20)), today)
            : earliest(plusDays(year.startsOn, rng.int(21, 90)), today)
        const performedOn = i === 0 && rng.next() < 0.6 ? plusDays(startedOn, rng.int(42, 70)) : null
        const performed = performedOn !== null && performedOn <= today
        em.create(RepertoirePiece, {
          pupil: enrolment.pupil,
          course: enrolment.course,
          addedBy: enrolment.course.teacher,
          title,
          composer,
          period,
          startedOn,
          state: performed ? 'performed' : 'in_progress',
          performedOn: performed ? performedOn : null,
        })
      }
    }
    await em.flush()
  }
}
