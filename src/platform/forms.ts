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
