/**
 * Invented people for the demo: name pools and the shape of each household. No name here may be one
 * printed in the iMuse manuals (test/demo/seed.test.ts checks every seeded surname against them).
 */

export type Civility = 'Madame' | 'Monsieur'

export interface GuardianTemplate {
  civility: Civility
  /** Fixed for the demo family; drawn from the pools otherwise. */
  firstName?: string
  situation: string
  /** Keeps their own surname (an unmarried couple, separated parents). */
  ownSurname?: boolean
  /** Lives elsewhere in the same town (separated parents). */
  ownAddress?: boolean
}

export interface ChildTemplate {
  civility: Civility
  firstName?: string
}

export interface HouseholdTemplate {
  surname?: string
  /** E-mail of the first guardian, when it must be known in advance (a demo account's). */
  email?: string
  guardians: GuardianTemplate[]
  children: ChildTemplate[]
  /** The first guardian is a pupil too ("le responsable est aussi élève"). */
  adultPupil?: boolean
  resident: boolean
  /** Where the family's proven quotient familial falls in the tenant's grid; null: none proven. */
  bracket: 'low' | 'middle' | 'high' | null
}

/** The same households in every conservatoire, under different names; the demo family comes first. */
export const households: HouseholdTemplate[] = [
  // the family of the future `demo-famille` account: two children, Camille Martin as responsable 1
  {
    surname: 'Martin',
    email: 'demo-famille@example.fr',
    guardians: [
      { civility: 'Madame', firstName: 'Camille', situation: 'Marié(e)' },
      { civility: 'Monsieur', firstName: 'Thomas', situation: 'Marié(e)' },
    ],
    children: [
      { civility: 'Monsieur', firstName: 'Hugo' },
      { civility: 'Madame', firstName: 'Chloé' },
    ],
    resident: true,
    bracket: 'middle',
  },
  {
    guardians: [{ civility: 'Madame', situation: 'Célibataire' }],
    children: [{ civility: 'Madame' }],
    resident: true,
    bracket: 'low',
  },
  {
    guardians: [
      { civility: 'Monsieur', situation: 'Divorcé(e)' },
      { civility: 'Madame', situation: 'Divorcé(e)', ownSurname: true, ownAddress: true },
    ],
    children: [{ civility: 'Madame' }, { civility: 'Monsieur' }],
    resident: true,
    bracket: 'high',
  },
  {
    guardians: [
      { civility: 'Madame', situation: 'Vie maritale' },
      { civility: 'Monsieur', situation: 'Vie maritale', ownSurname: true },
    ],
    children: [{ civility: 'Monsieur' }],
    resident: false,
    bracket: null,
  },
  {
    guardians: [{ civility: 'Monsieur', situation: 'Célibataire' }],
    children: [],
    adultPupil: true,
    resident: true,
    bracket: null,
  },
]

// biome-ignore format: a pool of names reads best as a paragraph
export const surnames = [
  'Garnier', 'Lemoine', 'Perrin', 'Vasseur', 'Fournier', 'Chevalier', 'Gauthier', 'Roussel', 'Morel',
  'Lambert', 'Bonnet', 'Girard', 'Mercier', 'Renaud', 'Carpentier', 'Barbier', 'Arnaud', 'Brunet',
  'Leclerc', 'Rolland', 'Aubert', 'Lacroix', 'Caron', 'Masson', 'Picard', 'Texier', 'Besnard',
  'Pasquier', 'Tessier', 'Vidal', 'Delmas', 'Charrier', 'Poulain', 'Royer', 'Bouvier', 'Langlois',
  'Benali', 'Nguyen', 'Ferreira', 'Haddad', 'Diallo', 'Kowalski',
]

// biome-ignore format: pools of names read best as paragraphs
export const firstNames: Record<'adult' | 'child', Record<Civility, string[]>> = {
  adult: {
    Madame: ['Sophie', 'Nathalie', 'Claire', 'Aurélie', 'Émilie', 'Sandrine', 'Élodie', 'Hélène', 'Céline', 'Virginie', 'Karima', 'Mélanie', 'Marion', 'Delphine', 'Laure', 'Anne-Sophie'],
    Monsieur: ['Nicolas', 'Julien', 'Sébastien', 'Mathieu', 'Olivier', 'Vincent', 'Stéphane', 'Guillaume', 'Frédéric', 'Karim', 'Antoine', 'Romain', 'Benoît', 'Laurent', 'Yannick', 'Cédric'],
  },
  child: {
    Madame: ['Emma', 'Louise', 'Alice', 'Lina', 'Rose', 'Anna', 'Ambre', 'Zoé', 'Inès', 'Agathe', 'Manon', 'Salomé'],
    Monsieur: ['Léo', 'Raphaël', 'Arthur', 'Louis', 'Jules', 'Adam', 'Maël', 'Lucas', 'Sacha', 'Nathan', 'Théo'],
  },
}

/** Whom to call in an emergency when the parents cannot be reached. */
export const grandparents: { firstName: string; relation: string }[] = [
  { firstName: 'Odile', relation: 'grand-mère' },
  { firstName: 'Monique', relation: 'grand-mère' },
  { firstName: 'Bernard', relation: 'grand-père' },
  { firstName: 'Alain', relation: 'grand-père' },
]

// biome-ignore format: a table
export const professions: { Madame: string; Monsieur: string; category: string }[] = [
  { Madame: 'Infirmière', Monsieur: 'Infirmier', category: 'Professions intermédiaires' },
  { Madame: 'Professeure des écoles', Monsieur: 'Professeur des écoles', category: 'Professions intermédiaires' },
  { Madame: 'Ingénieure', Monsieur: 'Ingénieur', category: 'Cadres et professions intellectuelles supérieures' },
  { Madame: 'Comptable', Monsieur: 'Comptable', category: 'Professions intermédiaires' },
  { Madame: 'Agente administrative', Monsieur: 'Agent administratif', category: 'Employés' },
  { Madame: 'Boulangère', Monsieur: 'Boulanger', category: "Artisans, commerçants et chefs d'entreprise" },
  { Madame: 'Médecin', Monsieur: 'Médecin', category: 'Cadres et professions intellectuelles supérieures' },
  { Madame: 'Technicienne de maintenance', Monsieur: 'Technicien de maintenance', category: 'Professions intermédiaires' },
  { Madame: 'Aide-soignante', Monsieur: 'Aide-soignant', category: 'Employés' },
  { Madame: 'Conductrice de bus', Monsieur: 'Conducteur de bus', category: 'Ouvriers' },
  { Madame: 'Vendeuse', Monsieur: 'Vendeur', category: 'Employés' },
  { Madame: 'Électricienne', Monsieur: 'Électricien', category: 'Ouvriers' },
  { Madame: 'Agricultrice', Monsieur: 'Agriculteur', category: 'Agriculteurs exploitants' },
]

/** Where the adults were born; children are born in their conservatoire's nearest maternity. */
export const birthPlaces: { city: string; department: string }[] = [
  { city: 'Lyon', department: '69' },
  { city: 'Bordeaux', department: '33' },
  { city: 'Nantes', department: '44' },
  { city: 'Lille', department: '59' },
  { city: 'Toulouse', department: '31' },
  { city: 'Poitiers', department: '86' },
  { city: 'Clermont-Ferrand', department: '63' },
  { city: 'Rennes', department: '35' },
]
