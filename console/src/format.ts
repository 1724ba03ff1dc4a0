/** Small formatting helpers shared by the views. */

/** `2025-12-09T10:00:00.123456Z` → `2025-12-09 10:00:00` (UTC, as the API answers). */
export function when(iso: string | null | undefined): string {
  return iso ? iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "") : "—";
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** Navigates with the URL's hash (the console's only router state). */
export function go(hash: string): void {
  location.hash = hash;
}
