import { type Expression, sql } from 'kysely'
import { fold } from '../../platform/text.ts'

/*
 * The families list's search, in SQL and in JS alike: "eloise" finds "Éloïse", "0612" finds
 * "06 12 34 56 78". The SQL side folds with translate() and lower(), which every Postgres has
 * (PGlite included), so no extension such as unaccent is needed.
 */

// accented letters and what platform/text.ts fold() makes of them (NFD, marks dropped, lowercase)
const accented = 'ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖòóôõöÙÚÛÜùúûüÝŸýÿ'
const plain = 'aaaaaaaaaaaacceeeeeeeeiiiiiiiinnoooooooooouuuuuuuuyyyy'

/** An expression folded as fold() folds a text: lowercase, no accents, "œ" as "oe". */
export function folded(expression: Expression<string | null>) {
  // translate first: lower() leaves "É" as it is on a database whose collation is C
  return sql<string>`replace(replace(lower(translate(${expression}, ${accented}, ${plain})), 'œ', 'oe'), 'Œ', 'oe')`
}

/** What a search box sends, turned into the read's parameters. */
export interface SearchTerms {
  /** False for an empty box: the read skips the search. */
  search: boolean
  /** `%word%` for each folded word, every one of which must appear in the family's names and e-mails. */
  patterns: string[]
  /** `%digits%` when the box holds a phone number (digits and separators only), null otherwise. */
  digits: string | null
}

const escapeLike = (word: string) => word.replace(/[\\%_]/g, (c) => `\\${c}`)

export function searchTerms(query: string): SearchTerms {
  const words = fold(query).split(/\s+/).filter(Boolean)
  const phoneLike = /^[\d\s.+()-]+$/.test(query.trim())
  // "+33 6 12" is "06 12" as phones are stored
  const digits = phoneLike
    ? query
        .trim()
        .replace(/^(\+|00)33/, '0')
        .replace(/\D/g, '')
    : ''
  return {
    search: words.length > 0,
    patterns: words.map((w) => `%${escapeLike(w)}%`),
    digits: digits.length >= 2 ? `%${digits}%` : null,
  }
}
