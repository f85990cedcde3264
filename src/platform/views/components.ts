import nunjucks from 'nunjucks'
import { blockLabels, errorLines } from '../forms.ts'
import type { Translate } from './i18n.ts'

/*
 * The fragments pages repeat many times, written as functions rather than nunjucks macros: a macro
 * call costs a frame, its arguments and every `set` a buffer, and an identity form calls one per
 * field (measured: docs/decisions.md). They are nunjucks globals, so templates call them as they
 * called the macros; `this` is the template's context, where the request's `t` is.
 */

// nunjucks' own autoescape, so a component's output reads as a template's would
const escapes: Record<string, string> = {
  '&': '&amp;',
  '"': '&quot;',
  "'": '&#39;',
  '<': '&lt;',
  '>': '&gt;',
  '\\': '&#92;',
}
const special = /[&"'<>\\]/
const escapeHtml = (value: unknown): string => {
  if (value === undefined || value === null) return ''
  const text = String(value)
  // most values (ids, names, labels) have nothing to escape: testing is cheaper than replacing
  return special.test(text) ? text.replace(/[&"'<>\\]/g, (c) => escapes[c]!) : text
}
const safe = (html: string) => new nunjucks.runtime.SafeString(html)

type TextBlock = { text: string } | { items: string[] }

/** A text from the tenant's YAML: blank lines separate paragraphs, "- " lines are list items. */
export function textBlocks(value: unknown): TextBlock[] {
  const blocks: TextBlock[] = []
  for (const chunk of String(value ?? '')
    .trim()
    .split(/\n\s*\n/)) {
    let prose: string[] = []
    let items: string[] = []
    const flush = () => {
      if (prose.length) blocks.push({ text: prose.join(' ') })
      if (items.length) blocks.push({ items })
      prose = []
      items = []
    }
    for (const line of chunk
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)) {
      if (line.startsWith('- ')) {
        if (prose.length) {
          blocks.push({ text: prose.join(' ') })
          prose = []
        }
        items.push(line.slice(2))
      } else {
        if (items.length) flush()
        prose.push(line)
      }
    }
    flush()
  }
  return blocks
}

// the tenant's texts are few and never change while the process runs
const texts = new Map<string, string>()

/** A tenant's text as HTML paragraphs and lists, escaped. */
export function textHtml(value: unknown): string {
  const key = String(value ?? '')
  let html = texts.get(key)
  if (html === undefined) {
    html = textBlocks(key)
      .map((block) =>
        'items' in block
          ? `<ul>${block.items.map((item) => `<li>${escapeHtml(item)}</li>`).join('')}</ul>`
          : `<p>${escapeHtml(block.text)}</p>`,
      )
      .join('')
    texts.set(key, html)
  }
  return html
}

/** What an identity form's field needs to be shown: see features/family/identity.ts `formFields`. */
export interface FieldView {
  name: string
  kind: string
  max: number
  label: string
  value: string
  required: boolean
  modified: boolean
  validated: string
  search?: boolean
  autocomplete?: string
  choices?: { value: string; label: string }[]
}

const inputTypes: Record<string, string> = { phone: 'tel', email: 'email', date: 'date' }

/**
 * One field of an identity form (Famille, Élèves, the re-enrolment, the pré-inscription):
 * "obligatoire" in words, ✓ when a change awaits validation, the error beside the field.
 * `prefix` tells two forms of one page apart (g- guardian, p- pupil); `form` joins an input to a
 * form element it is not inside.
 */
export function identityField(
  t: Translate,
  f: FieldView,
  errors: Record<string, string> | undefined,
  help = '',
  form = '',
  prefix = '',
): string {
  const id = prefix + f.name
  const formAttr = form ? ` form="${escapeHtml(form)}"` : ''
  const error = errors?.[id]
  const hint = f.kind === 'date' ? t('identity.dateHint') : f.search ? t('identity.schoolHint') : ''
  const described = [error && `${id}-error`, f.modified && `${id}-validated`, hint && `${id}-hint`]
    .filter(Boolean)
    .join(' ')
  const describedAttr = described ? ` aria-describedby="${escapeHtml(described)}"` : ''
  const required = f.required ? ` <span class="required">(${escapeHtml(t('form.requiredMark'))})</span>` : ''
  const modified = f.modified
    ? ` <span class="modified" title="${escapeHtml(t('famille.modified'))}"><span aria-hidden="true">✓</span><span class="visually-hidden">(${escapeHtml(t('famille.modified'))})</span></span>`
    : ''
  const notes =
    (f.modified
      ? `<p class="field__hint" id="${escapeHtml(id)}-validated">${escapeHtml(t('famille.validatedValue', { value: f.validated }))}</p>`
      : '') +
    (hint ? `<p class="field__hint" id="${escapeHtml(id)}-hint">${escapeHtml(hint)}</p>` : '') +
    (error ? `<p class="field__error" id="${escapeHtml(id)}-error">${escapeHtml(error)}</p>` : '')
  const classes = `field${error ? ' field--error' : ''}${f.required ? ' field--required' : ''}${f.modified ? ' field--modified' : ''}${f.search ? ' field--wide' : ''}`
  const invalid = error ? ' aria-invalid="true"' : ''
  if (f.kind === 'yesno') {
    // Oui/Non as two radios in a fieldset: the question is the legend
    const text = help
      ? // a long authorization text is one tap away rather than pages of scrolling on a phone
        help.length > 280
        ? `<details class="field__text"><summary>${escapeHtml(t('pupil.readText'))}</summary>${textHtml(help)}</details>`
        : `<div class="field__text">${textHtml(help)}</div>`
      : ''
    const radios = (['true', 'false'] as const)
      .map(
        (answer) =>
          `<label class="choice"><input type="radio" name="${escapeHtml(id)}" value="${answer}"${formAttr}${f.value === answer ? ' checked' : ''}${invalid}> ${escapeHtml(t(answer === 'true' ? 'sas.yes' : 'sas.no'))}</label>`,
      )
      .join('')
    return `<fieldset class="${classes} field--choice" id="${escapeHtml(id)}" tabindex="-1"${describedAttr}><legend>${escapeHtml(f.label)}${required}${modified}</legend>${text}${notes}<div class="choice-row">${radios}</div></fieldset>`
  }
  if (f.kind === 'checkbox') {
    return `<div class="${classes} field--checkbox"><input type="checkbox" id="${escapeHtml(id)}" name="${escapeHtml(id)}" value="true"${formAttr}${f.value === 'true' ? ' checked' : ''}${describedAttr}><label for="${escapeHtml(id)}">${escapeHtml(f.label)}${modified}</label>${notes}</div>`
  }
  const attributes = `id="${escapeHtml(id)}" name="${escapeHtml(id)}"${formAttr}${f.required ? ' required' : ''}${f.autocomplete ? ` autocomplete="${escapeHtml(f.autocomplete)}"` : ''}${invalid}${describedAttr}`
  let control: string
  if (f.kind === 'choice' && f.search) {
    // a long list: the browser filters the datalist as the family types, without any script
    const options = (f.choices ?? []).map((c) => `<option value="${escapeHtml(c.value)}"></option>`).join('')
    control = `<input ${attributes} type="text" list="${escapeHtml(id)}-list" value="${escapeHtml(f.value)}" maxlength="${f.max}" autocomplete="off"><datalist id="${escapeHtml(id)}-list">${options}</datalist>`
  } else if (f.kind === 'choice') {
    const options = (f.choices ?? [])
      .map(
        (c) =>
          `<option value="${escapeHtml(c.value)}"${c.value === f.value ? ' selected' : ''}>${escapeHtml(c.label)}</option>`,
      )
      .join('')
    control = `<select ${attributes}><option value="">${escapeHtml(t('identity.choose'))}</option>${options}</select>`
  } else {
    // a date the browser could not show in a date picker is shown as typed, never dropped
    const type =
      f.kind === 'date' && f.value && !/^\d{4}-\d{2}-\d{2}$/.test(f.value)
        ? 'text'
        : (inputTypes[f.kind] ?? 'text')
    const numeric = f.kind === 'postcode' ? ' inputmode="numeric"' : ''
    const maxlength = f.kind !== 'date' ? ` maxlength="${f.kind === 'phone' ? 30 : f.max}"` : ''
    control = `<input ${attributes} type="${type}" value="${escapeHtml(f.value)}"${numeric}${maxlength}>`
  }
  return `<div class="${classes}"><label for="${escapeHtml(id)}">${escapeHtml(f.label)}${required}${modified}</label>${notes}${control}</div>`
}

/** The components as nunjucks globals: `this` is the rendering context, which holds `t`. */
export function registerComponents(env: nunjucks.Environment): void {
  env.addGlobal('text', (value: unknown) => safe(textHtml(value)))
  env.addGlobal('errorLines', errorLines)
  env.addGlobal('blockLabels', blockLabels)
  env.addGlobal(
    'identityField',
    function (
      this: { ctx: { t: Translate } },
      f: FieldView,
      errors?: Record<string, string>,
      help?: string,
      form?: string,
      prefix?: string,
    ) {
      return safe(identityField(this.ctx.t, f, errors, help || '', form || '', prefix || ''))
    },
  )
}
