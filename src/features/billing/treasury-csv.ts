import type { Translate } from '../../platform/views/i18n.ts'
import { parseEuros } from './payment-form.ts'

/** One payment of the treasury's statement, as read from its CSV line. */
export interface StatementLine {
  /** The line's number in the file (the header is line 1), as staff find it in a spreadsheet. */
  line: number
  reference: string
  /** Cents. */
  amount: number
  /** YYYY-MM-DD. */
  date: string
  debtor: string
  /** The treasury's own identifier of the operation, when the statement has one. */
  id: string | null
}

export type Column = 'reference' | 'amount' | 'date' | 'debtor' | 'id'

/**
 * The names a statement's header may give each column, written as `headerKey` reduces them (no
 * accents, no spaces or signs, lower case). Exact names first; then a name that starts with one of
 * the `prefixes` ("Montant encaissé (€)").
 */
const names: Record<Column, { exact: string[]; prefixes: string[] }> = {
  id: {
    exact: [
      'id',
      'identifiant',
      'idtransaction',
      'numerotransaction',
      'numtransaction',
      'numerooperation',
      'referenceoperation',
      'numauto',
      'numeroautorisation',
    ],
    prefixes: [],
  },
  reference: {
    exact: ['reference', 'ref', 'refdet', 'numerofacture', 'nfacture', 'facture', 'referencefacture'],
    prefixes: ['reference', 'ref'],
  },
  amount: { exact: ['montant', 'somme', 'amount'], prefixes: ['montant'] },
  date: { exact: ['date', 'dattrans', 'dateencaissement', 'datepaiement'], prefixes: ['date'] },
  debtor: {
    exact: ['debiteur', 'nomdebiteur', 'redevable', 'nomredevable', 'payeur', 'nom', 'name', 'debtor'],
    prefixes: ['debiteur', 'redevable', 'payeur', 'nom'],
  },
}

const required: Column[] = ['reference', 'amount', 'date', 'debtor']

/** What a statement is refused for: each message names its line. At most this many are shown. */
export const shownErrors = 20

const headerKey = (name: string) =>
  name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')

/** Which column holds what, from the header's names; a name used for nothing is ignored. */
function columnsOf(header: string[]): Partial<Record<Column, number>> {
  const keys = header.map(headerKey)
  const found: Partial<Record<Column, number>> = {}
  const taken = new Set<number>()
  const take = (column: Column, match: (key: string) => boolean) => {
    if (found[column] !== undefined) return
    const index = keys.findIndex((key, i) => !taken.has(i) && match(key))
    if (index < 0) return
    found[column] = index
    taken.add(index)
  }
  const order: Column[] = ['id', 'reference', 'amount', 'date', 'debtor']
  for (const column of order) take(column, (key) => names[column].exact.includes(key))
  for (const column of order)
    take(column, (key) => names[column].prefixes.some((prefix) => key.startsWith(prefix)))
  return found
}

/** The file's text: UTF-8 (with or without its BOM), else Windows-1252 as older exports write it. */
function decode(content: Buffer): string | null {
  const signatures = ['%PDF', 'PK\u0003\u0004', '\u00d0\u00cf\u0011\u00e0', '\u0089PNG', '\u00ff\u00d8\u00ff']
  const head = content.subarray(0, 4).toString('latin1')
  if (signatures.some((s) => head.startsWith(s)) || content.includes(0)) return null
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(content)
  } catch {
    text = new TextDecoder('windows-1252').decode(content)
  }
  return text.replace(/^\uFEFF/, '')
}

/** The separator the header line uses: a semicolon (French spreadsheets), a tab, or a comma. */
function separatorOf(text: string): string {
  const first = text.slice(0, text.search(/\r?\n|$/))
  const count = (sep: string) => first.split(sep).length - 1
  return count(';') ? ';' : count('\t') ? '\t' : ','
}

/** CSV records with the line each starts on; a quoted cell may hold the separator, quotes and newlines. */
function records(text: string, separator: string): { line: number; cells: string[]; open: boolean }[] {
  const rows: { line: number; cells: string[]; open: boolean }[] = []
  let line = 1
  let start = 1
  let cells: string[] = []
  let cell = ''
  let quoted = false
  const end = () => {
    cells.push(cell)
    if (cells.some((c) => c.trim())) rows.push({ line: start, cells, open: false })
    cells = []
    cell = ''
  }
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"'
        i++
      } else if (c === '"') quoted = false
      else {
        if (c === '\n') line++
        cell += c
      }
    } else if (c === '"' && !cell.trim()) {
      quoted = true
      cell = ''
    } else if (c === separator) {
      cells.push(cell)
      cell = ''
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++
      end()
      line++
      start = line
    } else cell += c
  }
  if (quoted) {
    cells.push(cell)
    rows.push({ line: start, cells, open: true })
  } else if (cell || cells.length) end()
  return rows
}

/** An amount as the treasury writes it: "1 234,56", "1234.56", "1.234,56 €". */
function amountOf(text: string): number | null {
  const compact = text.replace(/[\s\u00a0\u202f]/g, '')
  const thousands = /^\d{1,3}(\.\d{3})+,\d{1,2}(€)?$/.test(compact) ? compact.replace(/\./g, '') : compact
  return parseEuros(thousands)
}

/** A day written dd/mm/yyyy (or dd-mm-yyyy, dd.mm.yyyy, or yyyy-mm-dd) as YYYY-MM-DD, if it exists. */
export function dateOf(text: string): string | null {
  const value = text.trim()
  const french = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(value)
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value)
  const [year, month, day] = french
    ? [Number(french[3]), Number(french[2]), Number(french[1])]
    : iso
      ? [Number(iso[1]), Number(iso[2]), Number(iso[3])]
      : []
  if (!year || !month || !day) return null
  const date = new Date(Date.UTC(year, month - 1, day))
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day)
    return null
  return date.toISOString().slice(0, 10)
}

/**
 * Reads the treasury's payment statement: a header naming the columns (reference, amount, date,
 * debtor, and optionally the treasury's own id), then one payment per line. Either every line (and
 * the file's text, decoded), or the reasons the file is refused, each naming its line: a statement is
 * recorded whole or not at all.
 */
export function parseStatement(
  content: Buffer,
  t: Translate,
): { lines: StatementLine[]; text: string; errors?: undefined } | { errors: string[] } {
  if (!content.length) return { errors: [t('treasury.error.empty')] }
  const text = decode(content)
  if (text === null) return { errors: [t('treasury.error.notCsv')] }
  const rows = records(text, separatorOf(text))
  const [header, ...body] = rows
  if (!header) return { errors: [t('treasury.error.empty')] }
  const columns = columnsOf(header.cells)
  const missing = required.filter((c) => columns[c] === undefined)
  if (missing.length)
    return {
      errors: [
        t('treasury.error.columns', {
          missing: missing.map((c) => t(`treasury.column.${c}`)).join(', '),
          found: header.cells.map((c) => c.trim()).join(' | '),
        }),
      ],
    }
  if (!body.length) return { errors: [t('treasury.error.noLines')] }
  const errors: string[] = []
  const lines: StatementLine[] = []
  for (const row of body) {
    const cell = (column: Column) => {
      const index = columns[column]
      return index === undefined ? '' : (row.cells[index] ?? '').trim()
    }
    const line = row.line
    if (row.open) {
      errors.push(t('treasury.error.quote', { line }))
      continue
    }
    if (row.cells.length < header.cells.length) {
      errors.push(t('treasury.error.cells', { line, found: row.cells.length, expected: header.cells.length }))
      continue
    }
    const reference = cell('reference')
    const amount = amountOf(cell('amount'))
    const date = dateOf(cell('date'))
    if (!reference) errors.push(t('treasury.error.reference', { line }))
    if (amount === null || amount <= 0)
      errors.push(t('treasury.error.amount', { line, value: cell('amount') }))
    if (!date) errors.push(t('treasury.error.date', { line, value: cell('date') }))
    if (reference && amount && amount > 0 && date)
      lines.push({ line, reference, amount, date, debtor: cell('debtor'), id: cell('id') || null })
  }
  if (errors.length) {
    const shown = errors.slice(0, shownErrors)
    if (errors.length > shownErrors) shown.push(t('treasury.error.more', { n: errors.length - shownErrors }))
    return { errors: shown }
  }
  return { lines, text }
}
