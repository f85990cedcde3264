import { fold } from '../../platform/text.ts'

/*
 * The families list's search: "eloise" finds "Éloïse", "0612" finds "06 12 34 56 78". What is
 * searched is folded by Postgres once, when a guardian or a pupil is written (their generated
 * columns search_text and search_phones, platform/text.ts foldSql); what is typed is folded here
 * by fold(), the same folding.
 */

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
