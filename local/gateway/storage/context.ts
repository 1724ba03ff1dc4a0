/**
 * What every storage route needs besides its own request: the deps (database, disk, keys, log), the caller
 * from the request's JWT, the scope SQL runs in as that caller (scope.ts), the two row lookups, and the JSON
 * shapes of storage.buckets and storage.objects rows. Routes live in routes/<resource>/<operation>.ts, as in
 * supabase/storage's src/http/routes; api.ts only routes and maps errors.
 */
import type postgres from "postgres";
import { decodeJwtPayload, type JwtPayload, verifyJwt, type VerifyResult } from "../../keys.ts";
import type { DiskStore } from "./disk.ts";
import { ERRORS } from "./errors.ts";
import { type Caller, headersObject, type RequestScope, type Tx } from "./scope.ts";

type Sql = postgres.Sql;

/** A storage.buckets row as postgres.js returns it. */
export interface BucketRow {
  id: string;
  name: string;
  owner: string | null;
  owner_id: string | null;
  public: boolean | null;
  file_size_limit: string | number | null;
  allowed_mime_types: string[] | null;
  type: string;
  created_at: Date | string | null;
  updated_at: Date | string | null;
}

/** A storage.objects row as postgres.js returns it. */
export interface ObjectRow {
  id: string;
  bucket_id: string;
  name: string;
  owner: string | null;
  owner_id: string | null;
  version: string | null;
  metadata: Record<string, unknown> | null;
  user_metadata: Record<string, unknown> | null;
  created_at: Date | string | null;
  updated_at: Date | string | null;
  last_accessed_at: Date | string | null;
}

/** What the Storage API runs on; the gateway (local/gateway/main.ts) builds it once. */
export interface StorageDeps {
  sql: Sql;
  disk: DiskStore;
  jwtSecret: string;
  serviceRoleKey: string;
  /** The global upload cap in bytes. */
  fileSizeLimit: () => number;
  log: (fields: Record<string, unknown>) => void;
}

/** A uuid: `owner` (a uuid column) is set only when the caller's `sub` is one (`owner_id` keeps any text). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A JSON response with storage-api's content type. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/** A path segment decoded; a malformed escape is storage-api's 400 InvalidKey. */
export function decodeKey(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw ERRORS.invalidKey(raw);
  }
}

/** A timestamp column as JSON shows it (ISO 8601), null kept. */
export function iso(d: Date | string | null): string | null {
  if (d === null) return null;
  return d instanceof Date ? d.toISOString() : d;
}

/** A storage.objects row as storage-api answers it (remove returns these). */
export function objectJson(o: ObjectRow): Record<string, unknown> {
  return {
    ...o,
    created_at: iso(o.created_at),
    updated_at: iso(o.updated_at),
    last_accessed_at: iso(o.last_accessed_at),
  };
}

/** A storage.buckets row as storage-api answers it. */
export function bucketJson(b: BucketRow): Record<string, unknown> {
  return {
    id: b.id,
    name: b.name,
    owner: b.owner ?? b.owner_id ?? "",
    public: b.public ?? false,
    type: b.type,
    file_size_limit: b.file_size_limit === null ? null : Number(b.file_size_limit),
    allowed_mime_types: b.allowed_mime_types,
    created_at: iso(b.created_at),
    updated_at: iso(b.updated_at),
  };
}

/** The deps plus the per-request helpers every route uses (built once per gateway by `createStorageContext`). */
export interface StorageContext extends StorageDeps {
  /**
   * The caller from `Authorization`. Routes that require it (every route but the plain object GET and info)
   * answer a missing header as storage-api's schema does (400 InvalidRequest) and a bad, expired or foreign
   * token with 403 AccessDenied and the verifier's message. With `allowAnon` (storage-api's allowInvalidJwt),
   * a missing or bad token makes the caller anonymous (`authenticated: false`) instead.
   */
  callerFrom(req: Request, allowAnon: boolean): Promise<Caller & { authenticated: boolean }>;
  /** The service role with the service key's claims: what the committed upload write runs as. */
  serviceCaller(): Caller;
  /** The request's scope (role, claims, headers, method, path, storage.operation) for `withScope`. */
  scopeFor(req: Request, caller: Caller, operation: string): RequestScope;
  /** storage-api reads buckets as the superuser for uploads and downloads (RLS on buckets is for the bucket API). */
  findBucketAsSuperuser(bucketId: string): Promise<BucketRow>;
  /** One object row, read in `tx` (RLS applies when it is a caller's scope); 404 NoSuchKey when absent. */
  findObject(tx: Tx | Sql, bucketId: string, name: string): Promise<ObjectRow>;
}

/** Binds the per-request helpers to the deps. */
export function createStorageContext(deps: StorageDeps): StorageContext {
  const { sql } = deps;
  let serviceClaims: Record<string, unknown> | null = null;

  // Tokens whose signature checked out, by token: a client sends the same key with every request, and the
  // HMAC is the same answer each time. Time claims are checked again on every use (an expired token is
  // verified again, so it fails with the verifier's own message); the map is emptied when it grows large.
  const verifiedTokens = new Map<string, JwtPayload>();
  async function verifiedToken(token: string): Promise<VerifyResult> {
    const known = verifiedTokens.get(token);
    const nowSec = Date.now() / 1000;
    if (
      known && (typeof known.exp !== "number" || known.exp > nowSec) &&
      (typeof known.nbf !== "number" || known.nbf <= nowSec)
    ) return { ok: true, payload: known };
    const verified = await verifyJwt(token, deps.jwtSecret);
    if (verified.ok) {
      if (verifiedTokens.size >= 1000) verifiedTokens.clear();
      verifiedTokens.set(token, verified.payload);
    }
    return verified;
  }

  async function callerFrom(req: Request, allowAnon: boolean): Promise<Caller & { authenticated: boolean }> {
    const anonymous = { role: "anon", claims: { role: "anon" }, jwt: "", sub: null, authenticated: false };
    const header = req.headers.get("authorization");
    if (header === null && !allowAnon) throw ERRORS.schema("headers", "authorization");
    const token = (header ?? "").replace(/^Bearer\s+/i, "").trim();
    if (!token && allowAnon) return anonymous;
    const verified = await verifiedToken(token);
    if (!verified.ok) {
      if (allowAnon) return anonymous;
      throw ERRORS.accessDenied(verified.message);
    }
    const role = typeof verified.payload.role === "string" && verified.payload.role !== ""
      ? verified.payload.role
      : "anon";
    const sub = typeof verified.payload.sub === "string" ? verified.payload.sub : null;
    return { role, claims: verified.payload, jwt: token, sub, authenticated: true };
  }

  function serviceCaller(): Caller {
    serviceClaims ??= decodeJwtPayload(deps.serviceRoleKey) ?? { role: "service_role" };
    return { role: "service_role", claims: serviceClaims, jwt: deps.serviceRoleKey, sub: null };
  }

  function scopeFor(req: Request, caller: Caller, operation: string): RequestScope {
    const url = new URL(req.url);
    return {
      caller,
      headers: headersObject(req.headers),
      method: req.method,
      path: url.pathname.replace(/^\/storage\/v1/, ""),
      operation,
    };
  }

  async function findBucketAsSuperuser(bucketId: string): Promise<BucketRow> {
    const [b] = await sql<BucketRow[]>`
      select id, name, owner, owner_id, public, file_size_limit, allowed_mime_types, type, created_at, updated_at
        from storage.buckets where id = ${bucketId}`;
    if (!b) throw ERRORS.noSuchBucket();
    return b;
  }

  async function findObject(tx: Tx | Sql, bucketId: string, name: string): Promise<ObjectRow> {
    const [o] = await tx<ObjectRow[]>`
      select id, bucket_id, name, owner, owner_id, version, metadata, user_metadata, created_at, updated_at,
             last_accessed_at
        from storage.objects where bucket_id = ${bucketId} and name = ${name}`;
    if (!o) throw ERRORS.noSuchKey();
    return o;
  }

  return { ...deps, callerFrom, serviceCaller, scopeFor, findBucketAsSuperuser, findObject };
}
