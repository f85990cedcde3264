import { html } from './build.ts'

/** What a browser would send for a form as the page shows it: inputs, checked boxes, selected options, textareas. */
export function formValues(body: string, action: string): Record<string, string> {
  const form = html(body).querySelector(`form[action="${action}"]`)
  if (!form) throw new Error(`no form to ${action}`)
  const values: Record<string, string> = {}
  for (const input of form.querySelectorAll('input[name]')) {
    const type = input.getAttribute('type') ?? 'text'
    if ((type === 'radio' || type === 'checkbox') && !input.hasAttribute('checked')) continue
    values[input.getAttribute('name')!] = input.getAttribute('value') ?? ''
  }
  for (const select of form.querySelectorAll('select[name]')) {
    const chosen = select.querySelector('option[selected]') ?? select.querySelector('option')
    values[select.getAttribute('name')!] = chosen?.getAttribute('value') ?? ''
  }
  for (const area of form.querySelectorAll('textarea[name]')) values[area.getAttribute('name')!] = area.text
  return values
}
