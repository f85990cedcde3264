/** Lowercase without accents or ligatures, so that "Chœur", "choeur" and "CHOEUR" compare equal. */
export function fold(text: string): string {
  return text
    .replace(/œ/gi, 'oe')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
}
