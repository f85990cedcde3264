// k6 script: a family's whole re-enrolment at Limonest (sign in, the six steps, one upload, submit),
// the same scenario as `npm run bench -- reenrolment`, for operators loading a real deployment.
//
//   k6 run -e BASE_URL=https://tutti.example.org -e TENANT_HOST=limonest.tutti.example.org \
//          -e ACCOUNT_PREFIX=famille- -e ACCOUNTS=500 -e PASSWORD='…' -e PROFILE=smoke \
//          load-tests/reenrolment.js
//
// Every iteration signs in as the next account (ACCOUNT_PREFIX + a number on 5 digits, from 1 to
// ACCOUNTS) and re-enrols that family's first pupil, once: prepare as many test families as
// iterations, each with a pupil enrolled this year, on a tenant whose re-enrolment is open and asks
// a pupil-level document `responsabilite-civile` (Limonest's YAML). Never run it on real families.
import { FormData } from 'https://jslib.k6.io/formdata/0.0.2/index.js'
import { check, fail } from 'k6'
import { parseHTML } from 'k6/html'
import http from 'k6/http'
import { Trend } from 'k6/metrics'
import { profile } from './lib/profiles.js'

const baseUrl = (__ENV.BASE_URL || 'http://127.0.0.1:3000').replace(/\/$/, '')
const host = __ENV.TENANT_HOST || 'limonest.localhost'
const prefix = __ENV.ACCOUNT_PREFIX || 'famille-'
const accounts = Number(__ENV.ACCOUNTS || 0)
const password = __ENV.PASSWORD || ''
const uploadKb = Number(__ENV.UPLOAD_KB || 1024)
const p99 = Number(__ENV.P99_MS || 100)

const steps = [
  'sign-in',
  'choice',
  'coordinates',
  'authorizations',
  'documents',
  'upload',
  'courses',
  'summary',
  'finalize',
]
const trends = Object.fromEntries(
  steps.map((step) => [step, new Trend(`step_${step.replace('-', '_')}`, true)]),
)

export const options = {
  ...profile(__ENV.PROFILE),
  thresholds: {
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
    // sign-in (argon2) and the upload are reported, not held to the pages' p99
    ...Object.fromEntries(
      steps
        .filter((s) => s !== 'sign-in' && s !== 'upload')
        .map((s) => [`step_${s.replace('-', '_')}`, [`p(99)<${p99}`]]),
    ),
  },
}

// a valid PDF of the chosen size: %PDF header, spaces, %%EOF
const pdf = `%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n${' '.repeat(Math.max(0, uploadKb * 1024 - 48))}\n%%EOF\n`

export function setup() {
  if (!accounts || !password) fail('give ACCOUNTS (how many prepared test families) and PASSWORD')
  const health = http.get(`${baseUrl}/healthz`)
  if (health.status !== 200) fail(`${baseUrl}/healthz answered ${health.status}`)
}

const params = (step, extra = {}) => ({
  headers: { Host: host, 'Accept-Language': 'fr', ...extra },
  redirects: 0,
  tags: { name: step },
})

function timed(step, res, expected) {
  trends[step].add(res.timings.duration)
  const ok = check(res, { [`${step} answers ${expected}`]: (r) => r.status === expected })
  if (!ok) throw new Error(`${step}: ${res.status}`)
  return res
}

/** The inputs a browser posts for the wizard: inside the form, or joined to it by form="…". */
function wizardFields(body) {
  const doc = parseHTML(body)
  const fields = {}
  const take = (el) => {
    const name = el.attr('name')
    const tag = el.nodeName().toLowerCase()
    if (!name) return
    if (tag === 'select') fields[name] = el.find('option[selected]').attr('value') || ''
    else if (tag === 'textarea') fields[name] = el.text()
    else if (tag === 'input') {
      const type = el.attr('type') || 'text'
      if ((type === 'radio' || type === 'checkbox') && el.attr('checked') === undefined) return
      fields[name] = el.attr('value') || ''
    }
  }
  doc.find('form#reenrolment-form input[name]').each((_, el) => take(el))
  doc.find('[form="reenrolment-form"][name]').each((_, el) => take(el))
  return fields
}

const csrf = (body, action) =>
  parseHTML(body).find(`form[action="${action}"] input[name="_csrf"]`).attr('value')

export default function () {
  const number = ((__ITER * 1000 + __VU - 1) % accounts) + 1
  const identifiant = `${prefix}${String(number).padStart(5, '0')}`
  const page = timed('sign-in', http.get(`${baseUrl}/connexion`, params('sign-in')), 200)
  timed(
    'sign-in',
    http.post(
      `${baseUrl}/connexion`,
      { _csrf: csrf(page.body, '/connexion'), identifiant, password },
      params('sign-in'),
    ),
    303,
  )
  const pupilPage = http.get(`${baseUrl}/eleves`, params('choice'))
  const base = `${pupilPage.headers.Location}/reinscription`
  const choice = timed('choice', http.get(`${baseUrl}${base}`, params('choice')), 200)
  timed(
    'choice',
    http.post(
      `${baseUrl}${base}/commencer`,
      { _csrf: csrf(choice.body, `${base}/commencer`) },
      params('choice'),
    ),
    303,
  )
  const step = (name, path, changes) => {
    const form = timed(name, http.get(`${baseUrl}${base}/${path}`, params(name)), 200)
    timed(
      name,
      http.post(`${baseUrl}${base}/${path}`, { ...wizardFields(form.body), ...changes }, params(name)),
      303,
    )
  }
  step('coordinates', 'coordonnees', { paymentMode: 'payfip', action: 'next' })
  step('authorizations', 'autorisations', { imageRights: 'true', exitAuthorization: 'true', action: 'next' })
  const documents = timed('documents', http.get(`${baseUrl}${base}/documents`, params('documents')), 200)
  const pupilId = base.split('/')[2]
  const action = `/eleves/${pupilId}/pieces?retour=${encodeURIComponent(`${base}/documents`)}`
  // FormData keeps the fields in order: the token and the document before the file, as a browser
  const form = new FormData()
  form.append('_csrf', csrf(documents.body, action))
  form.append('document', 'responsabilite-civile')
  form.append('file', http.file(pdf, 'assurance.pdf', 'application/pdf'))
  const upload = params('upload', { 'Content-Type': `multipart/form-data; boundary=${form.boundary}` })
  timed('upload', http.post(`${baseUrl}${action}`, form.body(), upload), 303)
  timed(
    'documents',
    http.post(
      `${baseUrl}${base}/documents`,
      { ...wizardFields(documents.body), action: 'next' },
      params('documents'),
    ),
    303,
  )
  step('courses', 'cours', { notes: 'k6', action: 'next' })
  step('summary', 'recapitulatif', { action: 'next' })
  step('finalize', 'finalisation', { accepted: 'true', action: 'submit' })
  http.cookieJar().clear(baseUrl)
}
