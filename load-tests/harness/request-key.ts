/**
 * How harness/count-queries.ts files a request, and how a scenario finds a page's row again: the
 * method and the path with every number replaced by `:id`, so that one route is one key whatever the
 * pupil. A `page` parameter is kept as it is: a queue's later page may read more than its first.
 */
export function requestKey(method: string, url: string): string {
  const [path = '', query] = url.split('?', 2)
  const page = query === undefined ? null : new URLSearchParams(query).get('page')
  return `${method} ${path.replace(/\d+/g, ':id')}${page === null ? '' : `?page=${page}`}`
}
