/**
 * The form of every session id the daemon issues or accepts over the API (decision 1100): a letter or digit,
 * then letters, digits, `.`, `_` or `-`, at most 128 characters, not ending in `.db`. An id is a file name inside
 * the sessions folder, never a path; only the command line may name a session file by path.
 * (Kept free of SQLite imports: the API's schemas use it.)
 */
export const SESSION_ID_PATTERN = '^(?!.*\\.db$)[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';
const ID_RE = new RegExp(SESSION_ID_PATTERN);

/** True when `id` has the form of a session id (no path, no `.db`). */
export function isSessionId(id: unknown): id is string {
  return typeof id === 'string' && ID_RE.test(id);
}
