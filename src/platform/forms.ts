/*
 * The one form convention of the app. A check reads what a person typed and answers the values it
 * understood with, for each refused field, a French message naming the problem; a service acting on
 * a form answers the same messages instead of acting. Nothing is thrown for bad input: the route
 * renders the form again (400) with what was typed and the messages beside the fields, or redirects.
 */

/** A message per refused field, keyed by the field's name in the form. */
export type FieldErrors = Record<string, string>

/** What a check understood, and its refusals; `errors` is undefined when the input is valid. */
export interface Checked<T> {
  values: T
  errors: FieldErrors | undefined
}

/** The refusals gathered by a check, or undefined when there is none. */
export function refusals(errors: FieldErrors): FieldErrors | undefined {
  for (const _ in errors) return errors
  return undefined
}

/**
 * What a form calls its fields, keyed like its errors: a label, or anything with one (an identity
 * form's fields).
 */
export type FieldLabels = Record<string, string | { label: string } | undefined>

/** One line of an error summary: "Nom : ce champ est obligatoire.", a link to the field. */
export interface ErrorLine {
  /** The field's label, empty when the form gave none (the message is then shown alone). */
  label: string
  message: string
  href: string
}

// "Ce champ…" reads "Nom : ce champ…" after a label; "IBAN invalide" keeps its capitals
const afterLabel = (message: string) =>
  /^\p{Lu}\p{Ll}/u.test(message) ? message[0]!.toLocaleLowerCase('fr') + message.slice(1) : message

/**
 * The lines of a form's error summary, in the order of the errors: each names its field, since
 * "Ce champ est obligatoire." thirteen times says nothing, and links to the element whose id is
 * the field's name. `labels` may be several sets (one per block of a form).
 */
export function errorLines(
  errors: FieldErrors | undefined,
  labels: FieldLabels | FieldLabels[] | undefined,
): ErrorLine[] {
  if (!errors) return []
  const sets = Array.isArray(labels) ? labels : labels ? [labels] : []
  const lines: ErrorLine[] = []
  for (const name in errors) {
    const message = errors[name]!
    let label = ''
    for (const set of sets) {
      const found = set[name]
      if (found) {
        label = typeof found === 'string' ? found : found.label
        break
      }
    }
    lines.push({ label, message: label ? afterLabel(message) : message, href: `#${name}` })
  }
  return lines
}

/**
 * The labels of a block of fields whose names take a prefix (`g1-lastName`), each preceded by the
 * block's name ("Responsable 1 — Nom"), so that two "Nom" of one page are told apart.
 */
export function blockLabels(labels: FieldLabels, prefix: string, block: string): Record<string, string> {
  const named: Record<string, string> = {}
  for (const name in labels) {
    const found = labels[name]
    if (found) named[prefix + name] = `${block} — ${typeof found === 'string' ? found : found.label}`
  }
  return named
}
