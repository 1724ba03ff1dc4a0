/**
 * `/storage/v1`: the subset of the Storage API that @supabase/storage-js uses, with storage-api's behaviour
 * (routes in supabase/storage src/http/routes/{bucket,object}/*.ts; the differences that remain
 * are listed in docs/LOCAL_STACK.md):
 *
 *   GET    /bucket                          list buckets (as the caller: RLS on storage.buckets)
 *   GET    /bucket/:id                      one bucket
 *   POST   /bucket                          create {id, name, public, file_size_limit, allowed_mime_types}
 *   POST   /object/:bucket/*key             upload (x-upsert: true → upsert)        → {Id, Key}
 *   PUT    /object/:bucket/*key             update (always an upsert)                → {Id, Key}
 *   GET    /object[/authenticated]/:bucket/*key   download; HEAD likewise (headers only)
 *   GET    /object/public/:bucket/*key      download from a public bucket, no JWT needed
 *   GET    /object/info[/authenticated]/:bucket/*key   object info (storage-js info()/exists())
 *   POST   /object/list/:bucket             list {prefix, limit, offset, sortBy, search}
 *   DELETE /object/:bucket                  remove {prefixes: [...]}   → the deleted rows
 *   DELETE /object/:bucket/*key             remove one
 *   POST   /object/sign/:bucket/*key        {expiresIn} → {signedURL: "/object/sign/<bucket>/<key>?token=…"}
 *   POST   /object/sign/:bucket             {expiresIn, paths} → [{error, path, signedURL}]
 *   GET    /object/sign/:bucket/*key?token= download through a signed URL
 *
 * Uploads: the permission probe runs as the caller in a transaction that is always rolled back, then the bytes
 * are written, then the row is written as `service_role` (the service key's claims, the caller's
 * request.headers) with `INSERT … ON CONFLICT (name, bucket_id) DO UPDATE`: triggers see INSERT for a new
 * object, UPDATE for an overwrite, `auth.uid()` null, and `owner_id` = the uploader's `sub`.
 */
import { readFileSync, statSync } from "node:fs";
import type postgres from "postgres";
import { decodeJwtPayload, signJwt, verifyJwt } from "../../keys.ts";
import { DiskStore } from "./disk.ts";
import { ERRORS, fromPgError, StorageApiError } from "./errors.ts";
import {
  type Caller,
  headersObject,
  type RequestScope,
  testPermission,
  type Tx,
  withScope,
} from "./scope.ts";

type Sql = postgres.Sql;

// Hyphen last so it stays a literal (src/storage/limits.ts).
const VALID_OBJECT_KEY = /^[A-Za-z0-9_/!.*'() &$=@;:+,?-]*$/;
const VALID_BUCKET_NAME = /^[A-Za-z0-9_!.*'() &$=@;:+,?-]*$/;

export function isValidKey(key: string): boolean {
  return key.length > 0 && VALID_OBJECT_KEY.test(key);
}

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

interface BucketRow {
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

interface ObjectRow {
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

export interface StorageDeps {
  sql: Sql;
  disk: DiskStore;
  jwtSecret: string;
  serviceRoleKey: string;
  /** The global upload cap in bytes. */
  fileSizeLimit: () => number;
  log: (fields: Record<string, unknown>) => void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

function decodeKey(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw ERRORS.invalidKey(raw);
  }
}

function iso(d: Date | string | null): string | null {
  if (d === null) return null;
  return d instanceof Date ? d.toISOString() : d;
}

function objectJson(o: ObjectRow): Record<string, unknown> {
  return {
    ...o,
    created_at: iso(o.created_at),
    updated_at: iso(o.updated_at),
    last_accessed_at: iso(o.last_accessed_at),
  };
}

function bucketJson(b: BucketRow): Record<string, unknown> {
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

export function createStorageApi(deps: StorageDeps): (req: Request, rest: string) => Promise<Response> {
  const { sql, disk, log } = deps;
  let serviceClaims: Record<string, unknown> | null = null;

  /**
   * The caller from `Authorization`. Routes that require it (every route but the plain object GET and info)
   * answer a missing header as storage-api's schema does (400 InvalidRequest) and a bad, expired or foreign
   * token with 403 AccessDenied and the verifier's message. With `allowAnon` (storage-api's allowInvalidJwt),
   * a missing or bad token makes the caller anonymous (`authenticated: false`) instead.
   */
  async function callerFrom(req: Request, allowAnon: boolean): Promise<Caller & { authenticated: boolean }> {
    const anonymous = { role: "anon", claims: { role: "anon" }, jwt: "", sub: null, authenticated: false };
    const header = req.headers.get("authorization");
    if (header === null && !allowAnon) throw ERRORS.schema("headers", "authorization");
    const token = (header ?? "").replace(/^Bearer\s+/i, "").trim();
    if (!token && allowAnon) return anonymous;
    const verified = await verifyJwt(token, deps.jwtSecret);
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

  /** storage-api reads buckets as the superuser for uploads and downloads (RLS on buckets is for the bucket API). */
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

  // ---------------------------------------------------------------------------------------------------------
  // Buckets
  // ---------------------------------------------------------------------------------------------------------

  async function listBuckets(req: Request): Promise<Response> {
    const caller = await callerFrom(req, false);
    const rows = await withScope(sql, scopeFor(req, caller, "storage.bucket.list"), (tx) =>
      tx<BucketRow[]>`
        select id, name, owner, owner_id, public, file_size_limit, allowed_mime_types, type, created_at, updated_at
          from storage.buckets order by name`);
    return json(rows.map(bucketJson));
  }

  async function getBucket(req: Request, id: string): Promise<Response> {
    const caller = await callerFrom(req, false);
    const [b] = await withScope(sql, scopeFor(req, caller, "storage.bucket.get"), (tx) =>
      tx<BucketRow[]>`
        select id, name, owner, owner_id, public, file_size_limit, allowed_mime_types, type, created_at, updated_at
          from storage.buckets where id = ${id}`);
    if (!b) throw ERRORS.noSuchBucket();
    return json(bucketJson(b));
  }

  async function createBucket(req: Request): Promise<Response> {
    const caller = await callerFrom(req, false);
    const body = await req.json().catch(() => null) as Record<string, unknown> | null;
    if (!body || typeof body.name !== "string") throw ERRORS.schema("body", "name");
    const id = typeof body.id === "string" && body.id !== "" ? body.id : body.name;
    if (!isValidBucketName(id)) throw ERRORS.invalidBucketName();
    let sizeLimit: number | null = null;
    if (body.file_size_limit !== undefined && body.file_size_limit !== null) {
      sizeLimit = typeof body.file_size_limit === "number" || typeof body.file_size_limit === "string"
        ? parseSize(body.file_size_limit)
        : null;
      if (sizeLimit === null) throw ERRORS.invalidRequest("Invalid file size format");
    }
    const mimes = Array.isArray(body.allowed_mime_types)
      ? body.allowed_mime_types.filter((m): m is string => typeof m === "string")
      : null;
    const owner = caller.sub && UUID.test(caller.sub) ? caller.sub : null;
    await withScope(sql, scopeFor(req, caller, "storage.bucket.create"), (tx) =>
      tx`
        insert into storage.buckets (id, name, owner, owner_id, public, file_size_limit, allowed_mime_types)
        values (${id}, ${id}, ${owner}, ${caller.sub}, ${body.public === true}, ${sizeLimit},
                ${mimes === null || mimes.length === 0 ? null : mimes})`);
    return json({ name: id });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Upload (POST / PUT)
  // ---------------------------------------------------------------------------------------------------------

  interface IncomingFile {
    /** Null for a raw body: it is read after the permission probe, as storage-api streams it then. */
    bytes: Uint8Array | null;
    mimeType: string;
    cacheControl: string;
    userMetadata: Record<string, unknown> | null;
  }

  async function readLimited(req: Request, max: number): Promise<Uint8Array> {
    // An empty body is a 0-byte object (storage-api stores it and answers 200).
    if (!req.body) return new Uint8Array(0);
    const reader = req.body.getReader();
    const parts: Uint8Array[] = [];
    let total = 0;
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > max) {
        await reader.cancel().catch(() => {});
        throw ERRORS.entityTooLarge();
      }
      parts.push(value);
    }
    const out = new Uint8Array(total);
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.byteLength;
    }
    return out;
  }

  function parseUserMetadata(header: string | null): Record<string, unknown> | null {
    if (!header) return null;
    try {
      const parsed = JSON.parse(
        new TextDecoder().decode(Uint8Array.from(atob(header), (c) => c.charCodeAt(0))),
      );
      return parsed && typeof parsed === "object" ? parsed as Record<string, unknown> : null;
    } catch {
      return null;
    }
  }

  function maxUploadSize(bucket: BucketRow): number {
    return Math.min(
      deps.fileSizeLimit(),
      bucket.file_size_limit === null ? Infinity : Number(bucket.file_size_limit),
    );
  }

  async function incomingFile(req: Request, bucket: BucketRow): Promise<IncomingFile> {
    const maxSize = maxUploadSize(bucket);
    const allowed = bucket.allowed_mime_types ?? [];
    const contentType = req.headers.get("content-type") ?? "";
    if (contentType.startsWith("multipart/form-data")) {
      const declared = Number(req.headers.get("content-length") ?? "NaN");
      // The form's size includes boundaries; the file itself is checked after parsing.
      if (Number.isFinite(declared) && declared > maxSize + 64 * 1024) throw ERRORS.entityTooLarge();
      let form: FormData;
      try {
        form = await req.formData();
      } catch {
        throw ERRORS.noContent();
      }
      let file: File | null = null;
      for (const [, v] of form.entries()) {
        if (typeof v !== "string") {
          file = v;
          break;
        }
      }
      if (!file) throw ERRORS.noContent();
      const mimeType = (form.get("contentType") as string | null) || file.type || "application/octet-stream";
      if (allowed.length > 0 && !isAllowedMimeType(mimeType, allowed)) throw ERRORS.invalidMimeType(mimeType);
      if (file.size > maxSize) throw ERRORS.entityTooLarge();
      const cacheTime = form.get("cacheControl");
      const md = form.get("metadata");
      let userMetadata: Record<string, unknown> | null = null;
      if (typeof md === "string") {
        try {
          userMetadata = JSON.parse(md);
        } catch { /* storage-api ignores unreadable metadata */ }
      }
      return {
        bytes: new Uint8Array(await file.arrayBuffer()),
        mimeType,
        cacheControl: typeof cacheTime === "string" && cacheTime !== "" ? `max-age=${cacheTime}` : "no-cache",
        userMetadata,
      };
    }
    const mimeType = contentType || "application/octet-stream";
    if (allowed.length > 0 && !isAllowedMimeType(mimeType, allowed)) throw ERRORS.invalidMimeType(mimeType);
    const declared = Number(req.headers.get("content-length") ?? "NaN");
    if (Number.isFinite(declared) && declared > maxSize) throw ERRORS.entityTooLarge();
    return {
      bytes: null,
      mimeType,
      cacheControl: req.headers.get("cache-control") ?? "no-cache",
      userMetadata: parseUserMetadata(req.headers.get("x-metadata")),
    };
  }

  async function upload(
    req: Request,
    bucketId: string,
    rawKey: string,
    isUpsert: boolean,
  ): Promise<Response> {
    const caller = await callerFrom(req, false);
    const name = decodeKey(rawKey);
    if (!isValidKey(name) || disk.pathFor(bucketId, name, "v") === null) throw ERRORS.invalidKey(name);
    const bucket = await findBucketAsSuperuser(bucketId);
    const file = await incomingFile(req, bucket);
    const owner = caller.sub;
    const ownerUuid = owner && UUID.test(owner) ? owner : null;
    const declaredLength = Number(req.headers.get("content-length") ?? "NaN");
    const probeMetadata = {
      mimetype: file.mimeType,
      contentLength: Number.isFinite(declaredLength) ? declaredLength : null,
    };
    // storage-api's operation names: POST (with or without x-upsert) is `upload`, PUT is `upload_update`.
    const scope = scopeFor(
      req,
      caller,
      req.method === "PUT" ? "storage.object.upload_update" : "storage.object.upload",
    );

    // 1. Permission probe as the caller, always rolled back (RLS denial → 403, existing object → 409
    //    KeyAlreadyExists).
    await testPermission(sql, scope, (tx) =>
      isUpsert
        ? tx`
            insert into storage.objects (bucket_id, name, owner, owner_id, version, metadata, user_metadata)
            values (${bucketId}, ${name}, ${ownerUuid}, ${owner}, '1', ${sql.json(probeMetadata)},
                    ${file.userMetadata === null ? null : sql.json(file.userMetadata as postgres.JSONValue)})
            on conflict (name, bucket_id) do update
               set metadata = excluded.metadata, user_metadata = excluded.user_metadata,
                   version = excluded.version, owner = excluded.owner, owner_id = excluded.owner_id`
        : tx`
            insert into storage.objects (bucket_id, name, owner, owner_id, version, metadata, user_metadata)
            values (${bucketId}, ${name}, ${ownerUuid}, ${owner}, '1', ${sql.json(probeMetadata)},
                    ${
          file.userMetadata === null ? null : sql.json(file.userMetadata as postgres.JSONValue)
        })`).catch((err) => {
        if ((err as { code?: unknown })?.code === "23505") throw ERRORS.keyAlreadyExists();
        throw err;
      });

    // 2. The bytes, as a new version file.
    const bytes = file.bytes ?? await readLimited(req, maxUploadSize(bucket));
    const version = crypto.randomUUID();
    const stored = await disk.write(bucketId, name, version, bytes);
    const metadata = {
      eTag: stored.eTag,
      size: stored.size,
      mimetype: file.mimeType,
      cacheControl: file.cacheControl,
      lastModified: stored.lastModified.toISOString(),
      contentLength: stored.size,
      httpStatusCode: 200,
    };

    // 3. The committed write as service_role (service key claims, caller's headers).
    let row: { id: string; previous_version: string | null };
    try {
      row = await withScope(sql, { ...scope, caller: serviceCaller() }, async (tx) => {
        await tx`select pg_advisory_xact_lock(hashtextextended(${bucketId + "/" + name}, 0))`;
        const [current] = await tx<{ version: string | null }[]>`
          select version from storage.objects where bucket_id = ${bucketId} and name = ${name} for update`;
        const [written] = await tx<{ id: string }[]>`
          insert into storage.objects (bucket_id, name, owner, owner_id, version, metadata, user_metadata)
          values (${bucketId}, ${name}, ${ownerUuid}, ${owner}, ${version}, ${sql.json(metadata)},
                  ${file.userMetadata === null ? null : sql.json(file.userMetadata as postgres.JSONValue)})
          on conflict (name, bucket_id) do update
             set metadata = excluded.metadata, user_metadata = excluded.user_metadata,
                 version = excluded.version, owner = excluded.owner, owner_id = excluded.owner_id,
                 updated_at = now()
          returning id`;
        return { id: written.id, previous_version: current?.version ?? null };
      });
    } catch (err) {
      // The row did not commit: its new bytes must not stay behind.
      await disk.remove(bucketId, name, version);
      throw err;
    }
    if (row.previous_version && row.previous_version !== version) {
      await disk.remove(bucketId, name, row.previous_version);
    }
    log({ event: "storage_upload", bucket: bucketId, name, size: stored.size, upsert: isUpsert });
    return json({ Id: row.id, Key: `${bucketId}/${name}` });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Download, info, head
  // ---------------------------------------------------------------------------------------------------------

  async function serveObject(
    req: Request,
    obj: ObjectRow,
    opts: { head: boolean; download: string | null; expires?: string },
  ): Promise<Response> {
    const md = obj.metadata ?? {};
    const headers: Record<string, string> = {
      "content-type": typeof md.mimetype === "string" ? md.mimetype : "application/octet-stream",
      "cache-control": typeof md.cacheControl === "string" ? md.cacheControl : "no-cache",
    };
    if (typeof md.eTag === "string") headers.etag = md.eTag;
    if (typeof md.size === "number") headers["content-length"] = String(md.size);
    const lm = typeof md.lastModified === "string" ? new Date(md.lastModified) : null;
    if (lm && !Number.isNaN(lm.getTime())) headers["last-modified"] = lm.toUTCString();
    if (opts.expires) headers.expires = opts.expires;
    if (opts.download !== null) {
      const filename = opts.download !== "" ? opts.download : obj.name.split("/").pop() ?? obj.name;
      headers["content-disposition"] = `attachment; filename=${encodeURIComponent(filename)};`;
    }
    if (headers.etag && req.headers.get("if-none-match") === headers.etag) {
      return new Response(null, { status: 304, headers });
    }
    if (opts.head) return new Response(null, { status: 200, headers });
    const f = obj.version ? await disk.open(obj.bucket_id, obj.name, obj.version) : null;
    if (!f) {
      log({ event: "storage_bytes_missing", bucket: obj.bucket_id, name: obj.name, version: obj.version });
      throw ERRORS.noSuchKey();
    }
    return new Response(f.readable, { status: 200, headers });
  }

  async function getObject(
    req: Request,
    bucketId: string,
    rawKey: string,
    mode: { head: boolean; publicRoute: boolean; authenticatedRoute: boolean },
  ): Promise<Response> {
    const name = decodeKey(rawKey);
    const url = new URL(req.url);
    const download = url.searchParams.has("download") ? url.searchParams.get("download") ?? "" : null;
    if (mode.publicRoute) {
      const bucket = await findBucketAsSuperuser(bucketId).catch(() => null);
      if (!bucket || !bucket.public) throw ERRORS.noSuchBucket();
      const obj = await findObject(sql, bucketId, name);
      return serveObject(req, obj, { head: mode.head, download });
    }
    // The plain route takes a missing, bad or expired token as anonymous (storage-api's allowInvalidJwt): a
    // private bucket then answers "404" NoSuchBucket, which is what a wrong service key reads as there.
    const caller = await callerFrom(req, !mode.authenticatedRoute);
    const bucket = await findBucketAsSuperuser(bucketId);
    if (!caller.authenticated && !bucket.public) throw ERRORS.noSuchBucket();
    const obj = await withScope(
      sql,
      scopeFor(req, caller, "storage.object.get_authenticated"),
      (tx) => findObject(tx, bucketId, name),
    );
    return serveObject(req, obj, { head: mode.head, download });
  }

  async function objectInfo(
    req: Request,
    bucketId: string,
    rawKey: string,
    publicRoute: boolean,
  ): Promise<Response> {
    const name = decodeKey(rawKey);
    const bucket = await findBucketAsSuperuser(bucketId);
    let obj: ObjectRow;
    if (publicRoute || bucket.public) {
      if (publicRoute && !bucket.public) throw ERRORS.noSuchBucket();
      obj = await findObject(sql, bucketId, name);
    } else {
      // As the plain GET: a missing or bad token is anonymous, and anonymous sees no private bucket.
      const caller = await callerFrom(req, true);
      if (!caller.authenticated) throw ERRORS.noSuchBucket();
      obj = await withScope(
        sql,
        scopeFor(req, caller, "storage.object.info"),
        (tx) => findObject(tx, bucketId, name),
      );
    }
    const md = obj.metadata ?? {};
    return json(
      {
        id: obj.id,
        name: obj.name,
        version: obj.version,
        bucket_id: obj.bucket_id,
        size: md.size ?? null,
        content_type: md.mimetype ?? null,
        cache_control: md.cacheControl ?? null,
        etag: md.eTag ?? null,
        metadata: obj.user_metadata,
        last_modified: iso(obj.updated_at),
        created_at: iso(obj.created_at),
      },
      200,
      typeof md.eTag === "string" ? { etag: md.eTag } : {},
    );
  }

  // ---------------------------------------------------------------------------------------------------------
  // List, remove
  // ---------------------------------------------------------------------------------------------------------

  async function listObjects(req: Request, bucketId: string): Promise<Response> {
    const caller = await callerFrom(req, false);
    const body = await req.json().catch(() => null) as Record<string, unknown> | null;
    if (!body || typeof body.prefix !== "string") throw ERRORS.schema("body", "prefix");
    let prefix = body.prefix;
    // storage-api treats the prefix as a folder.
    if (prefix.length > 0 && !prefix.endsWith("/")) prefix += "/";
    const search = typeof body.search === "string" ? body.search : "";
    const limit = Math.min(
      typeof body.limit === "number" && body.limit > 0 ? Math.floor(body.limit) : 100,
      1500,
    );
    const offset = typeof body.offset === "number" && body.offset > 0 ? Math.floor(body.offset) : 0;
    const sortBy = (body.sortBy ?? {}) as Record<string, unknown>;
    const column = ["name", "updated_at", "created_at", "last_accessed_at"].includes(String(sortBy.column))
      ? String(sortBy.column)
      : "name";
    const desc = String(sortBy.order ?? "asc").toLowerCase() === "desc";
    const start = prefix === "" ? 1 : prefix.split("/").length; // first path token below the prefix
    const levels = (prefix + search).split("/").length;
    const pattern = (prefix + search).replace(/[\\%_]/g, (c) => "\\" + c) + "%";
    const rows = await withScope(sql, scopeFor(req, caller, "storage.object.list"), (tx) =>
      tx<ObjectRow[]>`
        with matching as (
          select o.*, array_length(o.path_tokens, 1) as depth
            from storage.objects o
           where o.bucket_id = ${bucketId} and o.name ilike ${pattern}
        ), entries as (
          select distinct on (array_to_string(path_tokens[${start}:${levels}], '/'))
                 array_to_string(path_tokens[${start}:${levels}], '/') as name,
                 null::uuid as id, null::timestamptz as updated_at, null::timestamptz as created_at,
                 null::timestamptz as last_accessed_at, null::jsonb as metadata, true as is_folder
            from matching where depth <> ${levels}
          union all
          select array_to_string(path_tokens[${start}:${levels}], '/') as name, id, updated_at, created_at,
                 last_accessed_at, metadata, false as is_folder
            from matching where depth = ${levels}
        )
        select name, id, updated_at, created_at, last_accessed_at, metadata from entries
         order by ${column === "name" ? sql`lower(name) collate "C"` : sql`is_folder desc, ${sql(column)}`}
                  ${desc ? sql`desc` : sql`asc`}, name
         limit ${limit} offset ${offset}`);
    return json(rows.map((r) => ({
      name: r.name,
      id: r.id,
      updated_at: iso(r.updated_at),
      created_at: iso(r.created_at),
      last_accessed_at: iso(r.last_accessed_at),
      metadata: r.metadata,
    })));
  }

  async function removeObjects(
    req: Request,
    bucketId: string,
    names: string[],
    operation = "storage.object.delete_many",
  ): Promise<ObjectRow[]> {
    const caller = await callerFrom(req, false);
    if (names.length === 0) return [];
    if (names.length > 1000) {
      throw ERRORS.invalidRequest("Bulk object requests are limited to 1000 objects per request.");
    }
    // RLS decides (SELECT + DELETE policies); objects the caller cannot see are silently not deleted.
    const deleted = await withScope(
      sql,
      scopeFor(req, caller, operation),
      (tx) =>
        tx<ObjectRow[]>`
        delete from storage.objects where bucket_id = ${bucketId} and name = any(${names})
        returning id, bucket_id, name, owner, owner_id, version, metadata, user_metadata, created_at, updated_at,
                  last_accessed_at`,
    );
    for (const o of deleted) if (o.version) await disk.remove(bucketId, o.name, o.version);
    if (deleted.length > 0) log({ event: "storage_remove", bucket: bucketId, count: deleted.length });
    return deleted;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Signed URLs
  // ---------------------------------------------------------------------------------------------------------

  async function signOne(bucketId: string, name: string, expiresIn: number): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const token = await signJwt({
      url: `${bucketId}/${name}`,
      scope: "download",
      iat: now,
      exp: now + expiresIn,
    }, deps.jwtSecret);
    return `/object/sign/${bucketId}/${name}?token=${token}`;
  }

  function readExpiresIn(body: Record<string, unknown> | null): number {
    const e = body?.expiresIn;
    if (e === undefined) throw ERRORS.schema("body", "expiresIn");
    if (typeof e !== "number" || !Number.isFinite(e)) {
      throw ERRORS.invalidRequest("body/expiresIn must be number");
    }
    if (e < 1) throw ERRORS.invalidRequest("body/expiresIn must be >= 1");
    return Math.floor(e);
  }

  async function createSignedUrl(req: Request, bucketId: string, rawKey: string): Promise<Response> {
    const caller = await callerFrom(req, false);
    const name = decodeKey(rawKey);
    const body = await req.json().catch(() => null) as Record<string, unknown> | null;
    const expiresIn = readExpiresIn(body);
    await withScope(
      sql,
      scopeFor(req, caller, "storage.object.sign"),
      (tx) => findObject(tx, bucketId, name),
    );
    return json({ signedURL: await signOne(bucketId, name, expiresIn) });
  }

  async function createSignedUrls(req: Request, bucketId: string): Promise<Response> {
    const caller = await callerFrom(req, false);
    const body = await req.json().catch(() => null) as Record<string, unknown> | null;
    const expiresIn = readExpiresIn(body);
    if (!Array.isArray(body?.paths)) throw ERRORS.schema("body", "paths");
    const paths = body.paths.filter((p): p is string => typeof p === "string");
    const visible = await withScope(
      sql,
      scopeFor(req, caller, "storage.object.sign_many"),
      (tx) =>
        tx<{ name: string }[]>`
        select name from storage.objects where bucket_id = ${bucketId} and name = any(${paths})`,
    );
    const seen = new Set(visible.map((v) => v.name));
    const out = [];
    for (const p of paths) {
      out.push(
        seen.has(p) ? { error: null, path: p, signedURL: await signOne(bucketId, p, expiresIn) } : {
          error: "Either the object does not exist or you do not have access to it",
          path: p,
          signedURL: null,
        },
      );
    }
    return json(out);
  }

  async function getSigned(req: Request, bucketId: string, rawKey: string, head: boolean): Promise<Response> {
    const name = decodeKey(rawKey);
    const url = new URL(req.url);
    const token = url.searchParams.get("token");
    if (!token) throw ERRORS.schema("querystring", "token");
    const verified = await verifyJwt(token, deps.jwtSecret);
    if (!verified.ok) throw ERRORS.invalidJwt(verified.message);
    if (verified.payload.scope !== "download") {
      throw ERRORS.invalidSignature("Token is not scoped for download");
    }
    if (verified.payload.url !== `${bucketId}/${name}`) throw ERRORS.invalidSignature();
    const exp = Number(verified.payload.exp);
    const obj = await findObject(sql, bucketId, name);
    const download = url.searchParams.has("download") ? url.searchParams.get("download") ?? "" : null;
    return serveObject(req, obj, { head, download, expires: new Date(exp * 1000).toUTCString() });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Routing
  // ---------------------------------------------------------------------------------------------------------

  async function route(req: Request, rest: string): Promise<Response> {
    const m = req.method;
    const seg = rest.split("/");
    const tail = (n: number) => seg.slice(n).join("/");
    if (seg[0] === "bucket") {
      if (seg.length === 1 || (seg.length === 2 && seg[1] === "")) {
        if (m === "GET") return listBuckets(req);
        if (m === "POST") return createBucket(req);
      } else if (seg.length === 2 && m === "GET") {
        return getBucket(req, decodeKey(seg[1]));
      }
    }
    if (seg[0] === "object" && seg.length >= 2) {
      const kind = seg[1];
      if (kind === "list" && seg.length === 3 && m === "POST") return listObjects(req, decodeKey(seg[2]));
      if (kind === "sign" && seg.length === 3 && m === "POST") {
        return createSignedUrls(req, decodeKey(seg[2]));
      }
      if (kind === "sign" && seg.length >= 4) {
        if (m === "POST") return createSignedUrl(req, decodeKey(seg[2]), tail(3));
        if (m === "GET" || m === "HEAD") return getSigned(req, decodeKey(seg[2]), tail(3), m === "HEAD");
      }
      if (kind === "info" && seg.length >= 4) {
        if (seg[2] === "public" && seg.length >= 5 && m === "GET") {
          return objectInfo(req, decodeKey(seg[3]), tail(4), true);
        }
        if (seg[2] === "authenticated" && seg.length >= 5 && m === "GET") {
          return objectInfo(req, decodeKey(seg[3]), tail(4), false);
        }
        if (m === "GET") return objectInfo(req, decodeKey(seg[2]), tail(3), false);
      }
      if (
        (kind === "public" || kind === "authenticated") && seg.length >= 4 && (m === "GET" || m === "HEAD")
      ) {
        return getObject(req, decodeKey(seg[2]), tail(3), {
          head: m === "HEAD",
          publicRoute: kind === "public",
          authenticatedRoute: kind === "authenticated",
        });
      }
      const bucketId = decodeKey(kind);
      if (seg.length === 2 && m === "DELETE") {
        const body = await req.json().catch(() => null) as Record<string, unknown> | null;
        if (!body || !Array.isArray(body.prefixes)) throw ERRORS.schema("body", "prefixes");
        const names = body.prefixes.map((p) => typeof p === "string" ? p : (p as { path?: unknown })?.path)
          .filter((p): p is string => typeof p === "string");
        return json((await removeObjects(req, bucketId, names)).map(objectJson));
      }
      if (seg.length >= 3) {
        const key = tail(2);
        if (m === "POST") return upload(req, bucketId, key, req.headers.get("x-upsert") === "true");
        if (m === "PUT") return upload(req, bucketId, key, true);
        if (m === "GET" || m === "HEAD") {
          return getObject(req, bucketId, key, {
            head: m === "HEAD",
            publicRoute: false,
            authenticatedRoute: false,
          });
        }
        if (m === "DELETE") {
          // A missing object is "404" NoSuchKey; one that RLS does not let the caller delete is "403".
          const name = decodeKey(key);
          await callerFrom(req, false);
          await findObject(sql, bucketId, name);
          const [o] = await removeObjects(req, bucketId, [name], "storage.object.delete");
          if (!o) throw ERRORS.accessDenied("Access denied");
          return json({ message: "Successfully deleted" });
        }
      }
    }
    throw ERRORS.routeNotFound(m, `/${rest}`);
  }

  return async (req, rest) => {
    try {
      return await route(req, rest);
    } catch (err) {
      if (err instanceof StorageApiError) return err.render();
      const pg = fromPgError(err);
      if (pg) {
        if (pg.httpStatusCode === 500) log({ event: "storage_db_error", error: String(err) });
        return pg.render();
      }
      log({
        event: "storage_internal_error",
        error: err instanceof Error ? err.stack ?? err.message : String(err),
      });
      return ERRORS.internal().render();
    }
  };
}
