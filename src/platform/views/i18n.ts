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

function makeTranslator(locale: Locale): Translate {
  const catalogue = catalogues[locale]
  const plural = new Intl.PluralRules(locale)
  return (key, params) => {
    const text = catalogue[key] ?? fr[key] ?? key
    if (!params) return text
    return text
      .replace(/\{(\w+)\|([^|}]*)\|([^}]*)\}/g, (whole, name: string, one: string, other: string) =>
        name in params ? (plural.select(Number(params[name])) === 'one' ? one : other) : whole,
      )
      .replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole))
  }
}

// one per language, made once: a request only picks its own
const translators = Object.fromEntries(locales.map((locale) => [locale, makeTranslator(locale)])) as Record<
  Locale,
  Translate
>
