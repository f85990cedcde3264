import t from 'tap'
import { blockLabels, errorLines } from '../../src/platform/forms.ts'

t.test('an error summary line names its field and links to it', async (t) => {
  const lines = errorLines(
    {
      'g1-lastName': 'Ce champ est obligatoire.',
      iban: 'IBAN invalide.',
      token: 'Ce lien a expiré.',
      city: 'Ce champ est obligatoire.',
    },
    [
      blockLabels({ lastName: { label: 'Nom' }, city: 'Ville' }, 'g1-', 'Responsable 1'),
      { iban: 'IBAN', city: 'Ville' },
    ],
  )
  t.same(lines, [
    { label: 'Responsable 1 — Nom', message: 'ce champ est obligatoire.', href: '#g1-lastName' },
    { label: 'IBAN', message: 'IBAN invalide.', href: '#iban' },
    { label: '', message: 'Ce lien a expiré.', href: '#token' },
    { label: 'Ville', message: 'ce champ est obligatoire.', href: '#city' },
  ])
  t.same(errorLines(undefined, { city: 'Ville' }), [], 'no errors, no summary')
})
