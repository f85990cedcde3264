/** A tenant asking documents at both levels, with conditions on the payment mode, residence and courses. */
export const documentsTenant = {
  disciplines: [
    { code: 'danse', name: 'Danse', domain: 'dance' },
    { code: 'piano', name: 'Piano', domain: 'music' },
  ],
  paymentModes: [
    { id: 'prelevement', label: 'Prélèvement', kind: 'directDebit' },
    { id: 'cheque', label: 'Chèque', kind: 'cheque' },
  ],
  documents: [
    {
      id: 'sepa',
      label: 'Mandat SEPA',
      level: 'family',
      validity: 'forever',
      when: { fact: 'family.paymentMode', equals: 'prelevement' },
    },
    {
      id: 'domicile',
      label: 'Justificatif de domicile',
      help: 'De moins de 3 mois.',
      level: 'family',
      accept: ['pdf'],
      maxSizeMb: 1,
      when: { fact: 'family.resident', equals: true },
    },
    { id: 'assurance', label: 'Attestation d’assurance', level: 'pupil' },
    {
      id: 'certificat',
      label: 'Certificat médical',
      level: 'pupil',
      when: { fact: 'pupil.disciplines', includesAny: ['danse'] },
    },
  ],
}
