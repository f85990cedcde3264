/*
 * Amounts shown to people. Intl writes French amounts as typography wants them, "1 234,56 €": a
 * narrow no-break space (U+202F) between thousands and a no-break space (U+00A0) before the sign,
 * so an amount never breaks across lines; they are kept as they are, and tests spell them out.
 */
const formats = {
  fr: new Intl.NumberFormat('fr-FR', { style: 'currency', currency: 'EUR' }),
  en: new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'EUR' }),
} as const

/** An amount in integer cents as euros with two decimals: 123456 → "1 234,56 €" ("€1,234.56" in English). */
export function formatEuros(cents: number, locale: 'fr' | 'en' = 'fr'): string {
  return formats[locale].format(cents / 100)
}
