/** What teachers write on the term reports, by kind of course; phrased so that it fits any pupil. */

export type CourseKind = 'instrument' | 'fm' | 'ensemble' | 'eveil' | 'dance' | 'theatre'
export type Tone = 'good' | 'fair'

/** Instrument and formation musicale reports carry a grade; collective classes only a comment. */
export const grades: Partial<Record<CourseKind, Record<Tone, string>>> = {
  instrument: { good: 'A', fair: 'B' },
  fm: { good: 'A', fair: 'B' },
}

export const appreciations: Record<CourseKind, Record<Tone, string[]>> = {
  instrument: {
    good: [
      'Très bon trimestre. Le travail à la maison est régulier et cela s’entend : la sonorité s’affirme et les pièces sont bien en place.',
      'Excellent investissement. Belle curiosité musicale, les nouvelles pièces sont abordées avec assurance.',
      'Des progrès nets dans la tenue de l’instrument et la justesse. Continuer ainsi pour préparer l’audition.',
    ],
    fair: [
      'Trimestre correct, mais le travail personnel reste irrégulier. Prévoir de courtes séances quotidiennes plutôt qu’une longue la veille du cours.',
      'Des qualités réelles, encore freinées par un manque de concentration en cours. Les gammes doivent être travaillées.',
      'Ensemble honnête. La lecture ralentit l’apprentissage des pièces : s’appuyer davantage sur la formation musicale.',
    ],
  },
  fm: {
    good: [
      'Très bon trimestre : lecture de notes rapide, rythme précis et bonne participation en chant.',
      'Travail sérieux et régulier. Les dictées sont très réussies, l’oreille progresse vite.',
      'Une participation attentive qui entraîne toute la classe. Les évaluations sont excellentes.',
    ],
    fair: [
      'Résultats moyens. La lecture rythmique demande encore un entraînement régulier à la maison.',
      'Trimestre en demi-teinte : les leçons ne sont pas toujours apprises. Le potentiel est là.',
      'Des difficultés en dictée, mais une bonne volonté évidente. Il faut persévérer.',
    ],
  },
  ensemble: {
    good: [
      'Présence assidue et écoute remarquable des autres pupitres. Un vrai plaisir en répétition.',
      'Très bonne implication dans le groupe ; les partitions sont connues et le concert se prépare sereinement.',
    ],
    fair: [
      'Participation correcte, mais les partitions doivent être revues entre les répétitions.',
      'Quelques absences ont gêné le travail du pupitre. Bonne attitude quand l’élève est là.',
    ],
  },
  eveil: {
    good: [
      'Beaucoup de curiosité et de plaisir dans les jeux rythmiques et les chansons.',
      'Très belle écoute et beaucoup d’imagination dans les activités d’invention.',
    ],
    fair: [
      'Un peu de timidité en début d’année, qui s’estompe peu à peu. Participe davantage aux chants.',
      'Beaucoup d’énergie, à canaliser pour profiter pleinement des activités de groupe.',
    ],
  },
  dance: {
    good: [
      'Très bon trimestre. Placement précis, belle musicalité et mémoire des enchaînements.',
      'Travail appliqué et régulier ; l’élève gagne en amplitude et en aisance.',
    ],
    fair: [
      'Bonne volonté, mais le placement du bassin et des épaules doit être surveillé.',
      'Trimestre correct. La mémorisation des enchaînements demande plus de concentration.',
    ],
  },
  theatre: {
    good: [
      'Belle présence sur le plateau et une vraie écoute des partenaires. Le texte est su.',
      'Très bon engagement dans les improvisations ; la voix porte de mieux en mieux.',
    ],
    fair: [
      'Des propositions intéressantes, mais le texte n’est pas toujours appris à temps.',
      'Participation correcte ; oser davantage et travailler la diction.',
    ],
  },
}

export const absenceReasons = [
  'Maladie',
  'Rendez-vous médical',
  'Sortie scolaire',
  'Raison familiale',
  'Compétition sportive',
]
