import type { CourseKind } from './appreciations.ts'
import type { SchoolYearSpan } from './calendar.ts'

export interface Piece {
  piece: string
  author: string
}

/** The events of a demo school year: when they fall and which courses perform there. */
export const events: { title: string; date: (year: SchoolYearSpan) => string; kinds: CourseKind[] }[] = [
  { title: 'Audition de Noël', date: (y) => `${y.start}-12-12`, kinds: ['instrument'] },
  { title: 'Concert de printemps', date: (y) => `${y.start + 1}-04-03`, kinds: ['ensemble', 'instrument'] },
  { title: 'Gala de danse', date: (y) => `${y.start + 1}-06-13`, kinds: ['dance'] },
  { title: 'Soirée théâtre de fin d’année', date: (y) => `${y.start + 1}-06-19`, kinds: ['theatre'] },
  { title: 'Fête de la musique', date: (y) => `${y.start + 1}-06-21`, kinds: ['ensemble'] },
]

/** Pieces pupils play in the first cycles, from the usual exam and audition lists. */
export const pieces: Partial<Record<CourseKind, Piece[]>> = {
  instrument: [
    { piece: 'Menuet en sol majeur', author: 'Christian Petzold' },
    { piece: 'Le Cygne (Le Carnaval des animaux)', author: 'Camille Saint-Saëns' },
    { piece: 'Gymnopédie n° 1', author: 'Erik Satie' },
    { piece: 'Chanson triste', author: 'Piotr Ilitch Tchaïkovski' },
    { piece: 'Sonatine en sol', author: 'Ludwig van Beethoven' },
    { piece: 'Berceuse', author: 'Gabriel Fauré' },
    { piece: 'Rêverie', author: 'Claude Debussy' },
  ],
  ensemble: [
    { piece: 'Danses populaires roumaines', author: 'Béla Bartók' },
    { piece: 'Canon en ré', author: 'Johann Pachelbel' },
    { piece: 'Le Printemps (Les Quatre Saisons), 1er mouvement', author: 'Antonio Vivaldi' },
    { piece: 'Ave verum corpus', author: 'Wolfgang Amadeus Mozart' },
  ],
  dance: [
    { piece: 'Les Saisons', author: 'chorégraphie de la classe' },
    { piece: 'Rêves d’enfants', author: 'chorégraphie de la classe' },
    { piece: 'Boléro', author: 'musique de Maurice Ravel' },
  ],
  theatre: [
    { piece: 'Le Petit Prince (extraits)', author: 'Antoine de Saint-Exupéry' },
    { piece: 'Les Fourberies de Scapin (extraits)', author: 'Molière' },
    { piece: 'Fables choisies', author: 'Jean de La Fontaine' },
  ],
}
