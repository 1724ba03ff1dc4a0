/**
 * PostgreSQL `text` (and `jsonb`) cannot hold U+0000: a string that reaches a query with one fails the whole
 * statement ("invalid byte sequence for encoding UTF8: 0x00", SQLSTATE 22021), which a handler would report as
 * a 500. Free-text request fields bound for the database refuse it at the boundary instead, as a 400 naming the
 * field (found by the bad-input suite, tests/e2e/fuzz/).
 *
 *   z.string().refine(hasNoNul, NO_NUL_MESSAGE)
 */
export const NO_NUL_MESSAGE = "must not contain the NUL character (U+0000)";

/** True when `text` can be stored in a PostgreSQL `text` column (which cannot hold U+0000). */
export function hasNoNul(text: string): boolean {
  return !text.includes("\u0000");
}
