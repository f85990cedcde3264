// k6 script: the home page of every tenant, each request on one tenant's Host header.
//
//   k6 run -e BASE_URL=https://tutti.example.org \
//          -e TENANT_HOSTS=limonest.tutti.example.org,limoges.tutti.example.org \
//          -e PROFILE=average load-tests/tenant-home.js
//
// BASE_URL is where the requests go (a load balancer, a pod); TENANT_HOSTS are the Host headers
// the load is spread over, so one address serves every conservatoire as in production.
import { check, fail, sleep } from 'k6'
import http from 'k6/http'
import { profile, thinkTime } from './lib/profiles.js'

const baseUrl = (__ENV.BASE_URL || 'http://127.0.0.1:3000').replace(/\/$/, '')
const hosts = (__ENV.TENANT_HOSTS || '')
  .split(',')
  .map((h) => h.trim())
  .filter((h) => h.length > 0)
const p99 = Number(__ENV.P99_MS || 500)
// a person reads the page before the next click; THINK_TIME=0 turns the profile into a throughput test

export const options = {
  ...profile(__ENV.PROFILE),
  thresholds: {
    http_req_failed: ['rate<0.01'],
    http_req_duration: [`p(99)<${p99}`],
    checks: ['rate>0.99'],
  },
}

export function setup() {
  if (hosts.length === 0) fail('TENANT_HOSTS is empty: give the tenant hosts, comma-separated')
  const health = http.get(`${baseUrl}/healthz`, { tags: { name: 'healthz' } })
  if (health.status !== 200) fail(`${baseUrl}/healthz answered ${health.status}: is the server up?`)
  // every host must resolve to a tenant before the load starts: a typo would only measure 404s
  for (const host of hosts) {
    const res = http.get(`${baseUrl}/`, { headers: { Host: host }, tags: { name: 'setup' } })
    if (res.status !== 200) fail(`GET / with Host ${host} answered ${res.status}`)
  }
  return { hosts }
}

export default function (data) {
  // each VU walks the list from its own offset: every tenant gets a share of the load
  const host = data.hosts[(__VU + __ITER) % data.hosts.length]
  const res = http.get(`${baseUrl}/`, {
    headers: { Host: host, 'Accept-Language': 'fr' },
    tags: { name: 'tenant-home' },
  })
  check(res, {
    'status is 200': (r) => r.status === 200,
    'is an HTML page': (r) => (r.headers['Content-Type'] || '').startsWith('text/html'),
    'has a heading': (r) => typeof r.body === 'string' && r.body.includes('<h1'),
  })
  sleep(thinkTime(__ENV))
}
