// Shared k6 load profiles (as in grafana/quickpizza): each is an `options` fragment a script
// spreads into its own options, choosing one with PROFILE=smoke|average|stress|spike|soak.
// The figures are for one Tutti pod in front of one Postgres; raise them for a scaled-out install.

/** A few requests to prove the script and the target work: run it first, always. */
export const smoke = {
  vus: 2,
  duration: '30s',
}

/** A normal busy day: ramps to the usual load, holds it, ramps down. */
export const average = {
  stages: [
    { duration: '2m', target: 20 },
    { duration: '10m', target: 20 },
    { duration: '1m', target: 0 },
  ],
}

/** Above the usual load: the opening morning of re-enrolment. */
export const stress = {
  stages: [
    { duration: '2m', target: 60 },
    { duration: '10m', target: 60 },
    { duration: '2m', target: 0 },
  ],
}

/** A sudden burst (the e-mail announcing re-enrolment goes out), then back to nothing. */
export const spike = {
  stages: [
    { duration: '30s', target: 5 },
    { duration: '30s', target: 150 },
    { duration: '2m', target: 150 },
    { duration: '30s', target: 5 },
    { duration: '30s', target: 0 },
  ],
}

/** The usual load for hours: leaks, pool exhaustion, growing latency. */
export const soak = {
  stages: [
    { duration: '5m', target: 20 },
    { duration: '4h', target: 20 },
    { duration: '5m', target: 0 },
  ],
}

/**
 * A Helm deployment on a campaign morning: families arrive over ten minutes and read each page
 * before the next (scripts default THINK_TIME to 8 s with this profile), for half an hour. With
 * TENANT_HOSTS from `node load-tests/hosts.ts`, the load is spread over every conservatoire.
 */
export const deployment = {
  stages: [
    { duration: '10m', target: 300 },
    { duration: '30m', target: 300 },
    { duration: '5m', target: 0 },
  ],
}

export const profiles = { smoke, average, stress, spike, soak, deployment }

/** Seconds to wait between two pages: THINK_TIME (8 with the deployment profile, else 1) give or take half. */
export function thinkTime(env) {
  const mean = Number(env.THINK_TIME ?? (env.PROFILE === 'deployment' ? 8 : 1))
  return mean > 0 ? mean * (0.5 + Math.random()) : 0
}

/** The profile named by PROFILE (default smoke); an unknown name stops the script before it starts. */
export function profile(name) {
  const chosen = profiles[name || 'smoke']
  if (!chosen) throw new Error(`unknown PROFILE "${name}": one of ${Object.keys(profiles).join(', ')}`)
  return chosen
}
