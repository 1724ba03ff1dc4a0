/**
 * What the Storage API accepts (supabase/storage src/storage/limits.ts): object keys, bucket names, MIME
 * types against a bucket's list, and sizes ("50MiB") from config.toml or a bucket's `file_size_limit`.
 */
import { readFileSync, statSync } from "node:fs";

// Hyphen last so it stays a literal (src/storage/limits.ts).
const VALID_OBJECT_KEY = /^[A-Za-z0-9_/!.*'() &$=@;:+,?-]*$/;
const VALID_BUCKET_NAME = /^[A-Za-z0-9_!.*'() &$=@;:+,?-]*$/;

/** storage-api's object key rule: not empty, and only the characters its regex lets through. */
export function isValidKey(key: string): boolean {
  return key.length > 0 && VALID_OBJECT_KEY.test(key);
}

/** storage-api's bucket name rule: 1 to 100 characters of its set (no slash). */
export function isValidBucketName(name: string): boolean {
  return name.length > 0 && name.length < 101 && VALID_BUCKET_NAME.test(name);
}

/** storage-api's validateMimeType: `type/subtype` compared literally, `type/*` allowed; parameters are not stripped. */
export function isAllowedMimeType(mimeType: string, allowed: readonly string[]): boolean {
  const [type, sub] = mimeType.split("/");
  if (sub === undefined) return false;
  for (const a of allowed) {
    const [aType, aSub] = a.split("/");
    if (aType === type && (aSub === "*" || aSub === sub)) return true;
  }
  return false;
}

/** "50MiB", "5MB", "500KB", 1048576 → bytes (the CLI accepts both SI and binary units). */
export function parseSize(value: string | number): number | null {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$/i.exec(value);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = (m[2] ?? "b").toLowerCase();
  const mult: Record<string, number> = {
    b: 1,
    kb: 1e3,
    mb: 1e6,
    gb: 1e9,
    kib: 1024,
    mib: 1024 ** 2,
    gib: 1024 ** 3,
  };
  return Math.floor(n * mult[unit]);
}

/** `[storage] file_size_limit` from supabase/config.toml (the global cap; a bucket's own limit may be lower). */
export function globalFileSizeLimit(configToml: string): number {
  const fallback = 50 * 1024 ** 2;
  try {
    statSync(configToml);
  } catch {
    return fallback;
  }
  let inStorage = false;
  for (const raw of readFileSync(configToml, "utf8").split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    const table = /^\[([^\]]+)\]$/.exec(line);
    if (table) {
      inStorage = table[1].trim() === "storage";
      continue;
    }
    const m = /^file_size_limit\s*=\s*"([^"]+)"/.exec(line);
    if (inStorage && m) return parseSize(m[1]) ?? fallback;
  }
  return fallback;
}
