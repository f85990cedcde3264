/**
 * A CSV a French spreadsheet opens as it is: UTF-8 with a BOM (or Excel reads it as Latin-1),
 * semicolons (the French list separator), CRLF. What a family typed never runs as a formula.
 */
export function spreadsheetCsv(rows: readonly (readonly string[])[]): string {
  const cell = (text: string) => {
    // CSV injection: "=HYPERLINK(…)" typed in a form stays text
    const value = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text
    return /[;"\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value
  }
  return `\uFEFF${rows.map((row) => row.map(cell).join(';')).join('\r\n')}\r\n`
}
