const formats = {
  fr: new Intl.NumberFormat('fr-FR', { style: 'currency', currency: 'EUR' }),
  en: new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'EUR' }),
}

/** An amount in integer cents as people read it: "1 234,56 €". */
export function formatEuros(cents: number, locale: 'fr' | 'en' = 'fr'): string {
  return formats[locale].format(cents / 100)
}
