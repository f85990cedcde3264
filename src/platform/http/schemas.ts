/** A row id in a URL: a positive Postgres integer, so "abc" or "1e9999" is a 400, never a query. */
export const recordId = { type: 'integer', minimum: 1, maximum: 2147483647 } as const

/** `params` of a route whose only parameter is `:id`. */
export const idParams = { type: 'object', properties: { id: recordId }, required: ['id'] } as const
