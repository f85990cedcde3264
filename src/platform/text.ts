/** Lowercase without accents or ligatures, so that "Chœur", "choeur" and "CHOEUR" compare equal. */
export function fold(text: string): string {
  return text
    .replace(/œ/gi, 'oe')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
}

// one collator for the whole process: localeCompare(…, 'fr') would look one up at every comparison
const french = new Intl.Collator('fr')

/** French alphabetical order, for sort(): "Éveil" between "Danse" and "Flûte". */
export const frenchOrder = (a: string, b: string): number => french.compare(a, b)
