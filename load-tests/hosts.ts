/**
 * The canonical host of every conservatoire of a tenants directory, comma-separated, for the k6
 * scripts' TENANT_HOSTS: the first of a tenant's `hosts`, else `<slug>.<platform domain>` — where
 * its families go, and what the Helm chart's Ingress serves.
 *
 *   node load-tests/hosts.ts [tenants directory] [platform domain]
 *   k6 run -e TENANT_HOSTS=$(node load-tests/hosts.ts tenants tutti.example.org) -e PROFILE=deployment …
 */
import { loadTenantConfigs } from '../src/platform/tenancy/tenant-config.ts'

const [dir = 'tenants', domain = 'localhost'] = process.argv.slice(2)
const hosts = loadTenantConfigs(dir).map((tenant) => tenant.hosts[0] ?? `${tenant.slug}.${domain}`)
process.stdout.write(`${hosts.join(',')}\n`)
