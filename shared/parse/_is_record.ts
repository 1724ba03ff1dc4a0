/** A plain JSON object (not null, not an array): what every step expects before reading keys. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
