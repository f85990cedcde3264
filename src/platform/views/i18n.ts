import { en } from './messages/en.ts'
import { fr, type MessageKey } from './messages/fr.ts'

export const locales = ['fr', 'en'] as const
export type Locale = (typeof locales)[number]
export type { MessageKey }

const catalogues: Record<Locale, Record<MessageKey, string>> = { fr, en }

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (locales as readonly string[]).includes(value)
}

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string

/**
 * Messages take `{name}` parameters, and `{name|one|other}` for a word that agrees with a number:
 * French says "0 absence", "1 absence", "2 absences"; English "0 absences".
 */
export function translator(locale: Locale): Translate {
  return translators[locale]
}

type Part = string | { name: string } | { name: string; one: string; other: string }

/** A message cut once into its text and its parameters, so that a page's many calls only join. */
function compile(text: string): Part[] {
  const parts: Part[] = []
  const pattern = /\{(\w+)(?:\|([^|}]*)\|([^}]*))?\}/g
  let at = 0
  for (const match of text.matchAll(pattern)) {
    if (match.index > at) parts.push(text.slice(at, match.index))
    const [, name, one, other] = match as unknown as [string, string, string | undefined, string | undefined]
    parts.push(one === undefined ? { name } : { name, one, other: other ?? '' })
    at = match.index + match[0].length
  }
  if (at < text.length) parts.push(text.slice(at))
  return parts
}

function makeTranslator(locale: Locale): Translate {
  const catalogue = catalogues[locale]
  const plural = new Intl.PluralRules(locale)
  const compiled = new Map<string, Part[]>()
  return (key, params) => {
    const text = catalogue[key] ?? fr[key] ?? key
    if (!params) return text
    let parts = compiled.get(key)
    if (!parts) {
      parts = compile(text)
      compiled.set(key, parts)
    }
    let out = ''
    for (const part of parts) {
      if (typeof part === 'string') out += part
      else if (!(part.name in params))
        out += 'one' in part ? `{${part.name}|${part.one}|${part.other}}` : `{${part.name}}`
      else if ('one' in part)
        out += plural.select(Number(params[part.name])) === 'one' ? part.one : part.other
      else out += String(params[part.name])
    }
    return out
  }
}

// one per language, made once: a request only picks its own
const translators = Object.fromEntries(locales.map((locale) => [locale, makeTranslator(locale)])) as Record<
  Locale,
  Translate
>
