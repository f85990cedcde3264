// k6 script: a signed-in family's pages, the family side of `npm run bench -- pages`, for operators
// loading a real deployment.
//
//   k6 run -e BASE_URL=https://tutti.example.org \
//          -e TENANT_HOSTS=limonest.tutti.example.org,limoges.tutti.example.org \
//          -e ACCOUNT_PREFIX=famille- -e ACCOUNTS=50 -e PASSWORD='…' -e PROFILE=smoke \
//          load-tests/pages.js
//
// Each virtual user signs in once, on one of TENANT_HOSTS (spread over them), as test family
// ACCOUNT_PREFIX + a number on 5 digits (1 to ACCOUNTS; the same identifiants on every host), and
// keeps its session: every iteration then loads the family's pages — Accueil, Famille, the family's
// pièces, and its first pupil's Identité, Cours, Pièces, Historique and re-enrolment page — with
// THINK_TIME seconds between them. Read-only, except with WITH_STEPS=1: each user then starts a
// re-enrolment draft for its pupil (a write: prepared test families only, on a tenant whose
// re-enrolment is open with Limonest's six steps) and loads the six step pages too. A page answering
// anything but 200 (a 303 to the sign-in page: the session was lost) fails its check.
import { check, fail, sleep } from 'k6'
import { parseHTML } from 'k6/html'
import http from 'k6/http'
import { profile, thinkTime } from './lib/profiles.js'

const baseUrl = (__ENV.BASE_URL || 'http://127.0.0.1:3000').replace(/\/$/, '')
const hosts = (__ENV.TENANT_HOSTS || '')
  .split(',')
  .map((h) => h.trim())
  .filter((h) => h.length > 0)
const prefix = __ENV.ACCOUNT_PREFIX || 'famille-'
const accounts = Number(__ENV.ACCOUNTS || 0)
const password = __ENV.PASSWORD || ''
const withSteps = __ENV.WITH_STEPS === '1'
// issue 12: a page's p99 under 50 ms on a tenant of 3,000 families; raise it across a slow network
const p99 = Number(__ENV.P99_MS || 50)

const steps = ['coordonnees', 'autorisations', 'documents', 'cours', 'recapitulatif', 'finalisation']

export const options = {
  ...profile(__ENV.PROFILE),
  // the session cookie is kept from one iteration to the next, as a browser keeps it
  noCookiesReset: true,
  thresholds: {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{kind:page}': [`p(99)<${p99}`],
    checks: ['rate>0.99'],
  },
}

export function setup() {
  if (hosts.length === 0) fail('TENANT_HOSTS is empty: give the tenant hosts, comma-separated')
  if (!accounts || !password) fail('give ACCOUNTS (how many prepared test families) and PASSWORD')
  const health = http.get(`${baseUrl}/healthz`, { tags: { name: 'healthz' } })
  if (health.status !== 200) fail(`${baseUrl}/healthz answered ${health.status}: is the server up?`)
  for (const host of hosts) {
    const res = http.get(`${baseUrl}/`, { headers: { Host: host }, tags: { name: 'setup' } })
    if (res.status !== 200) fail(`GET / with Host ${host} answered ${res.status}`)
  }
  return { hosts }
}

const params = (host, name, kind) => ({
  headers: { Host: host, 'Accept-Language': 'fr' },
  redirects: 0,
  tags: { name, kind },
})

const csrf = (body, action) =>
  parseHTML(body).find(`form[action="${action}"] input[name="_csrf"]`).attr('value')

/** This user's family, signed in once: its host and the paths of its pages. */
let family

function signIn(host) {
  const number = ((__VU - 1) % accounts) + 1
  const identifiant = `${prefix}${String(number).padStart(5, '0')}`
  const form = http.get(`${baseUrl}/connexion`, params(host, 'sign-in', 'sign-in'))
  const res = http.post(
    `${baseUrl}/connexion`,
    { _csrf: csrf(form.body, '/connexion'), identifiant, password },
    params(host, 'sign-in', 'sign-in'),
  )
  if (res.status !== 303) fail(`sign-in of ${identifiant} on ${host}: ${res.status}`)
  // /eleves sends to the family's first pupil
  const pupil = http.get(`${baseUrl}/eleves`, params(host, '/eleves', 'sign-in')).headers.Location
  if (!/^\/eleves\/\d+$/.test(pupil || '')) fail(`${identifiant} on ${host}: no pupil (/eleves → ${pupil})`)
  const paths = [
    '/accueil',
    '/famille',
    '/famille/pieces',
    pupil,
    `${pupil}/cours`,
    `${pupil}/pieces`,
    `${pupil}/historique`,
    `${pupil}/reinscription`,
  ]
  if (withSteps) {
    const base = `${pupil}/reinscription`
    const choice = http.get(`${baseUrl}${base}`, params(host, '/eleves/:id/reinscription', 'sign-in'))
    // a draft already sends the choice page to its step; otherwise "Je souhaite réinscrire"
    if (choice.status === 200)
      http.post(
        `${baseUrl}${base}/commencer`,
        { _csrf: csrf(choice.body, `${base}/commencer`) },
        params(host, '/eleves/:id/reinscription/commencer', 'sign-in'),
      )
    paths.pop()
    paths.push(...steps.map((step) => `${base}/${step}`))
  }
  return { host, paths }
}

export default function (data) {
  if (!family) family = signIn(data.hosts[__VU % data.hosts.length])
  for (const path of family.paths) {
    const name = path.replace(/\d+/g, ':id')
    const res = http.get(`${baseUrl}${path}`, params(family.host, name, 'page'))
    check(res, {
      'status is 200 (a 303 is a lost session)': (r) => r.status === 200,
      'is an HTML page': (r) => (r.headers['Content-Type'] || '').startsWith('text/html'),
      'has a heading': (r) => typeof r.body === 'string' && r.body.includes('<h1'),
    })
    sleep(thinkTime(__ENV))
  }
}
