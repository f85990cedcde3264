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

// the accented letters fold() meets in French names, and what it makes of each
const accented = 'ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖòóôõöÙÚÛÜùúûüÝŸýÿ'
const plain = 'aaaaaaaaaaaacceeeeeeeeiiiiiiiinnoooooooooouuuuuuuuyyyy'

/**
 * fold() in SQL, for a generated column: translate() first, as lower() leaves "É" as it is under
 * the C collation; every function is immutable and in every Postgres (PGlite included), no extension.
 */
export function foldSql(expression: string): string {
  return `replace(replace(lower(translate(${expression}, '${accented}', '${plain}')), 'œ', 'oe'), 'Œ', 'oe')`
}
