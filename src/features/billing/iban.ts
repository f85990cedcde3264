/*
 * IBANs and BICs as people type them: normalised, checked (ISO 13616: the country's length and the
 * mod-97 check digits) and masked for display.
 */

/** Length of an IBAN in each country of the SEPA scheme (France's overseas territories included). */
export const ibanLengths: Readonly<Record<string, number>> = {
  AD: 24,
  AT: 20,
  BE: 16,
  BG: 22,
  BL: 27,
  CH: 21,
  CY: 28,
  CZ: 24,
  DE: 22,
  DK: 18,
  EE: 20,
  ES: 24,
  FI: 18,
  FR: 27,
  GB: 22,
  GF: 27,
  GI: 23,
  GP: 27,
  GR: 27,
  HR: 21,
  HU: 28,
  IE: 22,
  IS: 26,
  IT: 27,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  MC: 27,
  MF: 27,
  MQ: 27,
  MT: 31,
  NL: 18,
  NO: 15,
  PL: 28,
  PM: 27,
  PT: 25,
  RE: 27,
  RO: 24,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  VA: 22,
  YT: 27,
}

/** Spaces (and the dashes some RIBs print) removed, upper case. */
export function normaliseIban(typed: string): string {
  return typed.replace(/[\s\u00a0\u202f-]/g, '').toUpperCase()
}

/** The remainder of the IBAN's number (its first four characters moved to the end, letters as 10–35) by 97. */
function mod97(iban: string): number {
  const digits = (iban.slice(4) + iban.slice(0, 4)).replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55))
  let rest = 0
  // seven digits at a time after a remainder of two keep the number within a double’s exact integers
  for (let i = 0; i < digits.length; i += 7) rest = Number(String(rest) + digits.slice(i, i + 7)) % 97
  return rest
}

export type IbanProblem =
  | { problem: 'missing' }
  | { problem: 'format' }
  | { problem: 'country'; country: string }
  | { problem: 'length'; country: string; expected: number; actual: number }
  | { problem: 'checksum' }

/** The normalised IBAN, or why it is not one. */
export function checkIban(typed: string): { iban: string } | IbanProblem {
  const iban = normaliseIban(typed)
  if (!iban) return { problem: 'missing' }
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]+$/.test(iban)) return { problem: 'format' }
  const country = iban.slice(0, 2)
  const expected = ibanLengths[country]
  if (!expected) return { problem: 'country', country }
  if (iban.length !== expected) return { problem: 'length', country, expected, actual: iban.length }
  if (mod97(iban) !== 1) return { problem: 'checksum' }
  return { iban }
}

/** The two check digits that make `country` + `bban` an IBAN (to build demo and test accounts). */
export function ibanOf(country: string, bban: string): string {
  const check = 98 - mod97(`${country}00${bban}`)
  return `${country}${String(check).padStart(2, '0')}${bban}`
}

/** "FR76 **** **** **** **** ***0 189": the country, the check digits and the last four characters. */
export function maskIban(iban: string): string {
  const masked = iban.slice(0, 4) + '*'.repeat(Math.max(0, iban.length - 8)) + iban.slice(-4)
  return masked.replace(/(.{4})(?=.)/g, '$1 ')
}

/** A BIC: bank (4 letters), country (2), location (2), optional branch (3). */
export function normaliseBic(typed: string): string {
  return typed.replace(/\s/g, '').toUpperCase()
}

export const isBic = (bic: string) => /^[A-Z]{4}[A-Z]{2}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?$/.test(bic)
