// The YAML editor checked as the admin types: the server runs the submit's checks and answers the
// problems by line; nothing is kept. Without JavaScript the submit checks the same.
const form = document.querySelector('form.yaml-editor')
const area = form?.querySelector('#source')
const status = document.getElementById('live-check')
if (form && area && status) {
  const token = form.querySelector('input[name="_csrf"]')?.value ?? ''
  let timer
  let sent = 0
  const show = (result) => {
    status.replaceChildren()
    status.className = `live-check ${result.ok ? 'live-check--ok' : 'live-check--problems'}`
    const summary = document.createElement('p')
    summary.textContent = result.summary
    status.append(summary)
    if (result.problems.length > 0) {
      const list = document.createElement('ul')
      for (const problem of result.problems) {
        const item = document.createElement('li')
        item.textContent = problem
        list.append(item)
      }
      status.append(list)
    }
  }
  area.addEventListener('input', () => {
    clearTimeout(timer)
    timer = setTimeout(async () => {
      const n = ++sent
      try {
        const response = await fetch('/admin/configuration/yaml/verifier', {
          method: 'POST',
          body: new URLSearchParams({ _csrf: token, source: area.value }),
          credentials: 'same-origin',
        })
        // an answer overtaken by a later keystroke is not shown
        if (n === sent && response.ok) show(await response.json())
      } catch {
        // offline or signed out: the submit still checks
      }
    }, 600)
  })
}
