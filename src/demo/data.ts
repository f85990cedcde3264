/**
 * What each demo conservatoire teaches and where its families live. Course names come from the
 * conservatoire's iMuse manual where it shows them (Limonest, Grand Angoulême, Plessis-Pâté); the
 * others are plausible. Discipline codes must be codes of the tenant's YAML (the test checks it);
 * sites are indexes into its establishments, teachers indexes into teachers invented at seed time.
 */
import type { CourseKind } from './appreciations.ts'

export interface CourseSpec {
  key: string
  name: string
  discipline: string
  cycle?: string
  slot: string
  teacher: number
  site?: number
  /** The kind of report it gets; by default the discipline's domain (music: an instrument). */
  kind?: CourseKind
}

/**
 * A pupil's path through the courses: keys of this year's courses, then last year's, then the year
 * before. `age` is the age reached in the calendar year the current school year starts.
 */
export interface Track {
  age: number
  years: string[][]
}

export interface Town {
  postalCode: string
  city: string
  streets: string[]
}

export interface TenantDemo {
  /** Towns of the territory, where resident families live. */
  towns: Town[]
  /** A town outside it, for non-resident families. */
  elsewhere: Town
  /** How the area's landline numbers start, e.g. "05 55". */
  landline: string
  maternity: { city: string; department: string }
  schools: { primary: string[]; middle: string; high: string }
  courses: CourseSpec[]
  /** Given to the children in turn; the first two are the demo family's. */
  children: Track[]
  adult: Track
}

/** One teacher's individual lessons, one per cycle year, half an hour each and back to back. */
function lessons(
  base: Omit<CourseSpec, 'key' | 'cycle' | 'slot'> & { key: string; day: string; from: string },
  cycles: string[],
): CourseSpec[] {
  const { day, from, ...spec } = base
  const [hours, minutes] = from.split('h').map(Number) as [number, number]
  const time = (m: number) => `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}`
  return cycles.map((cycle, i) => {
    const start = hours * 60 + minutes + i * 30
    return {
      ...spec,
      key: `${base.key}-${cycle.toLowerCase()}`,
      cycle,
      slot: `${day} ${time(start)} – ${time(start + 30)}`,
    }
  })
}

// The course and track tables are kept one row per line (biome-ignore format) so that they read as tables.

// biome-ignore format: tables
const limonest: TenantDemo = {
  towns: [
    { postalCode: '69760', city: 'Limonest', streets: ['chemin des Vignes', 'allée des Cerisiers', 'impasse du Lavoir', 'route de la Garde'] },
  ],
  elsewhere: { postalCode: '69370', city: "Saint-Didier-au-Mont-d'Or", streets: ['avenue de la Source'] },
  landline: '04 78',
  maternity: { city: 'Lyon', department: '69' },
  schools: { primary: ['École élémentaire du Bourg', 'École primaire des Sources'], middle: "Collège des Monts d'Or", high: 'Lycée du Val de Saône' },
  courses: [
    // the four courses of the manual's re-enrolment screen
    { key: 'choeur', name: "Choeur Domin'ut", discipline: 'choeur-domin-ut', slot: 'Samedi 9h30 – 10h30', teacher: 0, kind: 'ensemble' },
    ...lessons({ key: 'clarinette', name: 'Clarinette', discipline: 'clarinette', teacher: 1, day: 'Mercredi', from: '13h30' }, ['1C1', '1C2', '1C3']),
    { key: 'fm-1c2', name: 'Formation musicale 1C2', discipline: 'formation-musicale', slot: 'Mercredi 11h00 – 12h00', teacher: 2, kind: 'fm' },
    { key: 'tc1a', name: 'TC1A Théâtre classe 1A PRIMAIRE JEUDI', discipline: 'theatre', slot: 'Jeudi 17h00 – 18h30', teacher: 3 },
    // the rest of the cursus the manual's notes mention
    { key: 'fm-1c1', name: 'Formation musicale 1C1', discipline: 'formation-musicale', slot: 'Mercredi 10h00 – 11h00', teacher: 2, kind: 'fm' },
    { key: 'fm-1c3', name: 'Formation musicale 1C3', discipline: 'formation-musicale', slot: 'Samedi 11h30 – 12h30', teacher: 2, kind: 'fm' },
    { key: 'fm-1c4', name: 'Formation musicale 1C4', discipline: 'formation-musicale', slot: 'Samedi 10h30 – 11h30', teacher: 2, kind: 'fm' },
    { key: 'orchestre', name: 'Orchestre 1er cycle', discipline: 'orchestre', slot: 'Mercredi 16h30 – 17h30', teacher: 4, kind: 'ensemble' },
    { key: 'decouverte', name: 'Découverte instrumentale', discipline: 'decouverte-instrumentale', slot: 'Lundi 17h00 – 18h00', teacher: 1, kind: 'eveil' },
    { key: 'eveil', name: 'Éveil artistique', discipline: 'eveil-artistique', slot: 'Mercredi 9h00 – 10h00', teacher: 0, kind: 'eveil' },
    { key: 'danse-enfant', name: 'Danse enfant', discipline: 'danse-enfant', slot: 'Mardi 17h15 – 18h15', teacher: 5 },
    { key: 'danse-adulte', name: 'Danse adulte', discipline: 'danse-adulte', slot: 'Lundi 19h00 – 20h30', teacher: 5 },
  ],
  children: [
    { age: 9, years: [['choeur', 'clarinette-1c2', 'fm-1c2', 'tc1a'], ['choeur', 'clarinette-1c1', 'fm-1c1'], ['decouverte']] },
    { age: 6, years: [['eveil', 'danse-enfant'], ['eveil'], []] },
    { age: 12, years: [['fm-1c4', 'orchestre', 'clarinette-1c3'], ['fm-1c3', 'orchestre', 'clarinette-1c2'], ['fm-1c2', 'choeur', 'clarinette-1c1']] },
    { age: 8, years: [['danse-enfant', 'fm-1c1', 'choeur'], ['decouverte', 'danse-enfant'], ['eveil']] },
  ],
  adult: { age: 38, years: [['danse-adulte'], ['danse-adulte'], []] },
}

// biome-ignore format: tables
const grandAngouleme: TenantDemo = {
  towns: [
    { postalCode: '16000', city: 'Angoulême', streets: ['rue des Remparts', 'rue des Papetiers', 'boulevard de la Charente'] },
    { postalCode: '16800', city: 'Soyaux', streets: ['avenue du Plateau', 'rue des Chênes'] },
  ],
  elsewhere: { postalCode: '16300', city: 'Barbezieux-Saint-Hilaire', streets: ['rue du Marché'] },
  landline: '05 45',
  maternity: { city: 'Angoulême', department: '16' },
  schools: { primary: ['École élémentaire des Remparts', 'École primaire du Plateau'], middle: 'Collège de la Charente', high: 'Lycée des Papetiers' },
  courses: [
    // the manual's pupil: formation musicale "2C2", the string orchestra of the 2nd cycle, cello 2C3;
    // courses of formation musicale are spelt alike in every conservatoire of the demo
    { key: 'fm-2c2', name: 'Formation musicale 2C2', discipline: 'formation-musicale', slot: 'Jeudi 17h30 – 19h00', teacher: 0, kind: 'fm' },
    { key: 'orchestre-2c', name: 'Orchestre E. Chabrier - cordes 2e. C', discipline: 'orchestre-cordes', slot: 'Samedi 10h30 – 12h00', teacher: 2, kind: 'ensemble' },
    ...lessons({ key: 'violoncelle', name: 'Violoncelle', discipline: 'violoncelle', teacher: 1, day: 'Lundi', from: '17h00' }, ['2C1', '2C2', '2C3']),
    { key: 'fm-1c1', name: 'Formation musicale 1C1', discipline: 'formation-musicale', slot: 'Mercredi 10h00 – 11h00', teacher: 0, kind: 'fm' },
    { key: 'fm-1c2', name: 'Formation musicale 1C2', discipline: 'formation-musicale', slot: 'Mercredi 11h00 – 12h00', teacher: 0, kind: 'fm' },
    { key: 'fm-1c3', name: 'Formation musicale 1C3', discipline: 'formation-musicale', slot: 'Mercredi 13h30 – 14h45', teacher: 0, kind: 'fm' },
    { key: 'fm-1c4', name: 'Formation musicale 1C4', discipline: 'formation-musicale', slot: 'Mercredi 15h00 – 16h15', teacher: 0, kind: 'fm' },
    { key: 'fm-2c1', name: 'Formation musicale 2C1', discipline: 'formation-musicale', slot: 'Mardi 17h30 – 19h00', teacher: 0, kind: 'fm' },
    { key: 'orchestre-1c', name: 'Orchestre E. Chabrier - cordes 1er C', discipline: 'orchestre-cordes', slot: 'Samedi 9h00 – 10h15', teacher: 2, kind: 'ensemble' },
    ...lessons({ key: 'violon', name: 'Violon', discipline: 'violon', teacher: 2, day: 'Mardi', from: '16h00' }, ['1C1', '1C2', '1C3']),
    ...lessons({ key: 'piano', name: 'Piano', discipline: 'piano', teacher: 3, day: 'Vendredi', from: '17h00' }, ['1C1', '1C2', '1C3']),
    { key: 'danse-1c1', name: 'Danse classique', discipline: 'danse-classique', cycle: '1C1', slot: 'Mercredi 14h00 – 15h00', teacher: 4 },
    { key: 'danse-1c2', name: 'Danse classique', discipline: 'danse-classique', cycle: '1C2', slot: 'Mercredi 15h00 – 16h15', teacher: 4 },
    { key: 'contemporain', name: 'Danse contemporaine adultes', discipline: 'danse-contemporaine', slot: 'Jeudi 19h30 – 21h00', teacher: 4 },
    { key: 'theatre', name: 'Art dramatique adultes', discipline: 'art-dramatique', slot: 'Mardi 19h30 – 21h30', teacher: 5 },
  ],
  children: [
    { age: 13, years: [['fm-2c2', 'orchestre-2c', 'violoncelle-2c3'], ['fm-2c1', 'orchestre-2c', 'violoncelle-2c2'], ['fm-1c4', 'orchestre-1c', 'violoncelle-2c1']] },
    { age: 9, years: [['fm-1c3', 'violon-1c3', 'orchestre-1c'], ['fm-1c2', 'violon-1c2'], ['fm-1c1', 'violon-1c1']] },
    { age: 11, years: [['fm-1c4', 'piano-1c3'], ['fm-1c3', 'piano-1c2'], ['fm-1c2', 'piano-1c1']] },
    { age: 8, years: [['danse-1c2', 'fm-1c1'], ['danse-1c1'], []] },
  ],
  adult: { age: 45, years: [['theatre'], ['theatre', 'contemporain'], ['contemporain']] },
}

// biome-ignore format: tables
const plessisPate: TenantDemo = {
  towns: [
    { postalCode: '91220', city: 'Le Plessis-Pâté', streets: ['rue des Peupliers', 'allée du Parc', 'rue de la Ferme', 'chemin des Roses'] },
  ],
  elsewhere: { postalCode: '91220', city: 'Brétigny-sur-Orge', streets: ['avenue de la Gare'] },
  landline: '01 60',
  maternity: { city: 'Corbeil-Essonnes', department: '91' },
  schools: { primary: ['École élémentaire du Parc', 'École primaire des Roses'], middle: 'Collège de la Ferme', high: "Lycée du Val d'Orge" },
  courses: [
    { key: 'eveil', name: 'Éveil musique et danse (4-5 ans)', discipline: 'eveil-initiation', slot: 'Mercredi 10h00 – 10h45', teacher: 0, kind: 'eveil' },
    { key: 'initiation', name: 'Initiation danse (6-7 ans)', discipline: 'eveil-initiation', slot: 'Mercredi 11h00 – 12h00', teacher: 0 },
    { key: 'danse-enfants', name: 'Danse enfants (8-10 ans)', discipline: 'danse', slot: 'Mercredi 14h00 – 15h15', teacher: 0 },
    { key: 'street-jazz', name: 'Street-jazz / Hip-hop (11-14 ans)', discipline: 'street-jazz-hip-hop', slot: 'Samedi 14h00 – 15h30', teacher: 4 },
    { key: 'cardio', name: 'Cardio-danse adultes', discipline: 'cardio-danse', slot: 'Lundi 19h00 – 20h00', teacher: 4 },
    { key: 'bien-etre', name: 'Bien-être adultes', discipline: 'bien-etre', slot: 'Jeudi 9h30 – 10h30', teacher: 4 },
    { key: 'fm-1c1', name: 'Formation musicale 1C1', discipline: 'formation-musicale', slot: 'Mercredi 13h30 – 14h30', teacher: 1, kind: 'fm' },
    { key: 'fm-1c2', name: 'Formation musicale 1C2', discipline: 'formation-musicale', slot: 'Samedi 10h00 – 11h00', teacher: 1, kind: 'fm' },
    ...lessons({ key: 'piano', name: 'Piano', discipline: 'piano', teacher: 1, day: 'Mardi', from: '17h00' }, ['1C1', '1C2', '1C3']),
    ...lessons({ key: 'guitare', name: 'Guitare', discipline: 'guitare', teacher: 2, day: 'Lundi', from: '17h30' }, ['1C1', '1C2']),
    ...lessons({ key: 'batterie', name: 'Batterie', discipline: 'batterie', teacher: 3, day: 'Jeudi', from: '17h30' }, ['1C1']),
  ],
  children: [
    { age: 9, years: [['piano-1c2', 'fm-1c2'], ['piano-1c1', 'fm-1c1'], ['initiation']] },
    { age: 6, years: [['initiation'], ['eveil'], []] },
    { age: 12, years: [['street-jazz', 'guitare-1c2'], ['guitare-1c1', 'fm-1c1', 'danse-enfants'], ['danse-enfants']] },
    { age: 10, years: [['danse-enfants', 'batterie-1c1'], ['danse-enfants'], ['danse-enfants']] },
  ],
  adult: { age: 44, years: [['cardio', 'bien-etre'], ['cardio'], []] },
}

// biome-ignore format: tables
const limoges: TenantDemo = {
  towns: [
    { postalCode: '87000', city: 'Limoges', streets: ['rue des Tanneurs', 'avenue du Pont-Neuf', 'rue de la Porcelaine', 'allée des Châtaigniers'] },
  ],
  elsewhere: { postalCode: '87220', city: 'Feytiat', streets: ['allée des Bruyères'] },
  landline: '05 55',
  maternity: { city: 'Limoges', department: '87' },
  schools: { primary: ['École élémentaire des Tanneries', 'École primaire du Pont-Neuf'], middle: 'Collège des Émailleurs', high: 'Lycée des Arènes' },
  courses: [
    { key: 'eveil', name: 'Éveil musical (5-6 ans)', discipline: 'eveil-musical', slot: 'Mercredi 10h00 – 10h45', teacher: 0, kind: 'eveil' },
    { key: 'fm-1c1', name: 'Formation musicale 1C1', discipline: 'formation-musicale', slot: 'Mercredi 11h00 – 12h00', teacher: 0, kind: 'fm' },
    { key: 'fm-1c2', name: 'Formation musicale 1C2', discipline: 'formation-musicale', slot: 'Mercredi 13h30 – 14h30', teacher: 0, kind: 'fm' },
    { key: 'fm-1c3', name: 'Formation musicale 1C3', discipline: 'formation-musicale', slot: 'Mercredi 14h30 – 15h45', teacher: 0, kind: 'fm' },
    { key: 'fm-1c4', name: 'Formation musicale 1C4', discipline: 'formation-musicale', slot: 'Samedi 10h00 – 11h15', teacher: 0, kind: 'fm' },
    ...lessons({ key: 'piano', name: 'Piano', discipline: 'piano', teacher: 1, day: 'Mardi', from: '17h00' }, ['1C1', '1C2', '1C3']),
    ...lessons({ key: 'violon', name: 'Violon', discipline: 'violon', teacher: 2, day: 'Lundi', from: '17h00' }, ['1C1', '1C2']),
    ...lessons({ key: 'flute', name: 'Flûte traversière', discipline: 'flute-traversiere', teacher: 3, day: 'Jeudi', from: '17h00' }, ['1C2', '1C3', '1C4']),
    ...lessons({ key: 'trompette', name: 'Trompette', discipline: 'trompette', teacher: 4, day: 'Vendredi', from: '17h30' }, ['1C2']),
    { key: 'danse-1c1', name: 'Danse classique', discipline: 'danse-classique', cycle: '1C1', slot: 'Mercredi 16h00 – 17h00', teacher: 5 },
    { key: 'danse-1c2', name: 'Danse classique', discipline: 'danse-classique', cycle: '1C2', slot: 'Samedi 14h00 – 15h15', teacher: 5 },
    { key: 'theatre', name: 'Art dramatique adultes', discipline: 'art-dramatique', slot: 'Lundi 19h00 – 21h00', teacher: 6 },
  ],
  children: [
    { age: 10, years: [['fm-1c3', 'piano-1c3'], ['fm-1c2', 'piano-1c2'], ['fm-1c1', 'piano-1c1']] },
    { age: 7, years: [['fm-1c1', 'violon-1c1'], ['eveil'], []] },
    { age: 12, years: [['fm-1c4', 'flute-1c4'], ['fm-1c3', 'flute-1c3'], ['fm-1c2', 'flute-1c2']] },
    { age: 9, years: [['danse-1c2', 'fm-1c2', 'trompette-1c2'], ['danse-1c1'], []] },
  ],
  adult: { age: 34, years: [['theatre'], ['theatre'], []] },
}

// biome-ignore format: tables
const porteOceane: TenantDemo = {
  towns: [
    { postalCode: '87200', city: 'Saint-Junien', streets: ['rue des Gantiers', 'avenue de la Glane', 'allée des Mégisseries'] },
    { postalCode: '87600', city: 'Rochechouart', streets: ['rue du Château', 'chemin des Météorites'] },
  ],
  elsewhere: { postalCode: '16150', city: 'Chabanais', streets: ['rue de la Vienne'] },
  landline: '05 55',
  maternity: { city: 'Saint-Junien', department: '87' },
  schools: { primary: ['École élémentaire de la Glane', 'École primaire du Château'], middle: 'Collège des Gantiers', high: 'Lycée de la Glane' },
  // spread over the two sites so that both have courses
  courses: [
    { key: 'eveil', name: 'Éveil musical', discipline: 'eveil-musical', slot: 'Mercredi 10h00 – 10h45', teacher: 0, site: 0, kind: 'eveil' },
    { key: 'fm-1c1', name: 'Formation musicale 1C1', discipline: 'formation-musicale', slot: 'Mercredi 11h00 – 12h00', teacher: 0, site: 0, kind: 'fm' },
    { key: 'fm-1c2', name: 'Formation musicale 1C2', discipline: 'formation-musicale', slot: 'Mardi 17h30 – 18h30', teacher: 0, site: 1, kind: 'fm' },
    { key: 'fm-1c3', name: 'Formation musicale 1C3', discipline: 'formation-musicale', slot: 'Mercredi 14h00 – 15h15', teacher: 0, site: 0, kind: 'fm' },
    { key: 'chorale-enfants', name: 'Chorale enfants', discipline: 'chorale', slot: 'Mercredi 15h30 – 16h30', teacher: 0, site: 0, kind: 'ensemble' },
    { key: 'chorale-adultes', name: 'Chorale adultes', discipline: 'chorale', slot: 'Jeudi 20h00 – 21h30', teacher: 0, site: 1, kind: 'ensemble' },
    ...lessons({ key: 'piano', name: 'Piano', discipline: 'piano', teacher: 1, site: 0, day: 'Lundi', from: '17h00' }, ['1C1', '1C2']),
    ...lessons({ key: 'guitare', name: 'Guitare', discipline: 'guitare', teacher: 2, site: 1, day: 'Mardi', from: '16h30' }, ['1C2', '1C3']),
    ...lessons({ key: 'saxophone', name: 'Saxophone', discipline: 'saxophone', teacher: 3, site: 0, day: 'Mercredi', from: '16h30' }, ['1C1', '1C2']),
    ...lessons({ key: 'batterie', name: 'Batterie', discipline: 'batterie', teacher: 4, site: 1, day: 'Jeudi', from: '17h00' }, ['1C2', '1C3']),
    ...lessons({ key: 'violon', name: 'Violon', discipline: 'violon', teacher: 5, site: 0, day: 'Vendredi', from: '17h00' }, ['1C1']),
  ],
  children: [
    { age: 10, years: [['fm-1c3', 'saxophone-1c2', 'chorale-enfants'], ['fm-1c2', 'saxophone-1c1'], ['fm-1c1']] },
    { age: 7, years: [['fm-1c1', 'piano-1c1'], ['eveil'], []] },
    { age: 13, years: [['guitare-1c3', 'fm-1c3'], ['guitare-1c2', 'fm-1c2'], ['fm-1c1']] },
    { age: 11, years: [['batterie-1c3', 'chorale-enfants'], ['batterie-1c2', 'fm-1c3'], ['fm-1c2']] },
  ],
  adult: { age: 52, years: [['chorale-adultes'], ['chorale-adultes'], ['chorale-adultes', 'violon-1c1']] },
}

export const demoData: Record<string, TenantDemo> = {
  limonest,
  'grand-angouleme': grandAngouleme,
  'plessis-pate': plessisPate,
  limoges,
  'porte-oceane': porteOceane,
}

const genericSlots = [
  'Lundi 17h00 – 18h00',
  'Mardi 17h30 – 18h30',
  'Mercredi 14h00 – 15h00',
  'Jeudi 18h00 – 19h00',
]

/**
 * For a conservatoire without demo data of its own: one course per discipline of its YAML, in a
 * fictitious town (no French postal code starts with 00).
 */
export function genericDemo(disciplines: { code: string; name: string }[]): TenantDemo {
  const courses: CourseSpec[] = disciplines.map((d, i) => ({
    key: d.code,
    name: d.name,
    discipline: d.code,
    slot: genericSlots[i % genericSlots.length]!,
    teacher: i % 4,
    site: i,
  }))
  const key = (i: number) => (courses.length > 0 ? [courses[i % courses.length]!.key] : [])
  const town: Town = {
    postalCode: '00100',
    city: 'Villeneuve-sur-Lys',
    streets: ['rue des Écoles', 'place du Marché'],
  }
  return {
    towns: [town],
    elsewhere: { postalCode: '00200', city: 'Saint-Aubin-des-Prés', streets: ['route de la Forêt'] },
    landline: '01',
    maternity: { city: 'Villeneuve-sur-Lys', department: '00' },
    schools: {
      primary: ['École élémentaire du Centre'],
      middle: 'Collège du Marché',
      high: 'Lycée des Prés',
    },
    courses,
    children: [10, 7, 12, 9].map((age, i) => ({ age, years: [key(i), key(i), []] })),
    adult: { age: 40, years: [key(courses.length - 1), [], []] },
  }
}
