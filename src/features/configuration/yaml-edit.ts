import { isDeepStrictEqual } from 'node:util'
import { diffArrays } from 'diff'
import { type Document, isCollection, isScalar, isSeq, type Node, parseDocument } from 'yaml'

export type Path = (string | number)[]

// no folding of long lines, and `[a, b]` as the tenants' files write their short lists
const printOptions = { lineWidth: 0, flowCollectionPadding: false } as const

/**
 * The text of an edited document, where every line the edit did not touch is the file's own line.
 * The `yaml` library prints a whole document in its own style (`{ a: 1 }` becomes `{a: 1}`), so
 * the source is printed once unedited: the lines that differ between that print and the edited one
 * are the edit, and every other line is taken from the source, character for character. Should the
 * library ever print the source on another number of lines, its print of the edit is used as is.
 */
export function printEdited(source: string, doc: Document): string {
  const edited = doc.toString(printOptions)
  const lines = source.split('\n')
  const baseline = parseDocument(source).toString(printOptions).split('\n')
  if (baseline.length !== lines.length) return edited
  const out: string[] = []
  let at = 0
  for (const part of diffArrays(baseline, edited.split('\n'))) {
    if (part.added) out.push(...part.value)
    else if (part.removed) at += part.value.length
    else {
      out.push(...lines.slice(at, at + part.value.length))
      at += part.value.length
    }
  }
  const text = out.join('\n')
  return isDeepStrictEqual(parseDocument(text).toJS(), doc.toJS()) ? text : edited
}

/** Sets a value; a list or a block is written inline (`[pdf, png]`), as the files write them. */
export function setFlow(doc: Document, path: Path, value: unknown): void {
  const node = doc.createNode(value)
  if (isCollection(node)) node.flow = true
  doc.setIn(path, node)
}

/**
 * Sets a list of scalars item by item, so the items kept keep their text and comments; a list not
 * written yet is written inline (or as one item a line, for long texts).
 */
export function setList(doc: Document, path: Path, values: string[], flow = true): void {
  const node = doc.getIn(path, true) as Node | undefined
  if (!isSeq(node)) {
    const created = doc.createNode(values)
    if (isCollection(created)) created.flow = flow
    doc.setIn(path, created)
    return
  }
  for (const [i, value] of values.entries()) {
    const item = node.items[i]
    if (i >= node.items.length) doc.addIn(path, value)
    else if (!(isScalar(item) && item.value === value)) doc.setIn([...path, i], value)
  }
  node.items.splice(values.length)
}

/** Deletes a key, then the blocks it leaves empty (`texts: {}`), the top level excepted. */
export function deleteKey(doc: Document, path: Path): void {
  doc.deleteIn(path)
  for (let n = path.length - 1; n >= 1; n--) {
    const parent = doc.getIn(path.slice(0, n), true) as Node | undefined
    if (!isCollection(parent) || parent.items.length > 0) break
    doc.deleteIn(path.slice(0, n))
  }
}

/** Sets a text: one of several lines ends with a line break, so the file shows it as a `|` block. */
export function setText(doc: Document, path: Path, text: string): void {
  doc.setIn(path, text.includes('\n') ? `${text}\n` : text)
}
