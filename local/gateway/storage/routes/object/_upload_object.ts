/**
 * An upload, as POST (create_object.ts) and PUT (update_object.ts) share it in storage-api: the permission
 * probe runs as the caller in a transaction that is always rolled back, then the bytes are written, then the
 * row is written as `service_role` (the service key's claims, the caller's request.headers) with
 * `INSERT … ON CONFLICT (name, bucket_id) DO UPDATE`: triggers see INSERT for a new object, UPDATE for an
 * overwrite, `auth.uid()` null, and `owner_id` = the uploader's `sub`.
 */
import type postgres from "postgres";
import { decodeKey, json, type StorageContext, UUID } from "../../context.ts";
import { ERRORS } from "../../errors.ts";
import { isValidKey } from "../../limits.ts";
import { testPermission, withScope } from "../../scope.ts";
import { incomingFile, maxUploadSize, readLimited } from "./_incoming_file.ts";

/**
 * The new version's file after a failed row write: removed only when the row is known not to name it. A
 * connection broken at COMMIT (PostgreSQL crashing) leaves the outcome unknown, and the row may have committed:
 * removing the file then left an object whose row exists and whose bytes are gone (found by the chaos run).
 * While the database cannot say, the file stays — an orphan version file is only disk space.
 */
export async function discardUncommittedVersion(
  ctx: Pick<StorageContext, "sql" | "disk">,
  bucketId: string,
  name: string,
  version: string,
): Promise<"removed" | "kept_committed" | "kept_unknown"> {
  let named: boolean;
  try {
    const rows = await ctx.sql`
      select 1 from storage.objects where bucket_id = ${bucketId} and name = ${name} and version = ${version}`;
    named = rows.length > 0;
  } catch {
    return "kept_unknown";
  }
  if (named) return "kept_committed";
  await ctx.disk.remove(bucketId, name, version);
  return "removed";
}

/** Stores the object (an upsert when `isUpsert`), answering {Id, Key}; a failed row write removes the new bytes. */
export async function uploadObject(
  ctx: StorageContext,
  req: Request,
  bucketId: string,
  rawKey: string,
  isUpsert: boolean,
): Promise<Response> {
  const caller = await ctx.callerFrom(req, false);
  const name = decodeKey(rawKey);
  if (!isValidKey(name) || ctx.disk.pathFor(bucketId, name, "v") === null) throw ERRORS.invalidKey(name);
  const bucket = await ctx.findBucketAsSuperuser(bucketId);
  const file = await incomingFile(ctx, req, bucket);
  const owner = caller.sub;
  const ownerUuid = owner && UUID.test(owner) ? owner : null;
  const declaredLength = Number(req.headers.get("content-length") ?? "NaN");
  const probeMetadata = {
    mimetype: file.mimeType,
    contentLength: Number.isFinite(declaredLength) ? declaredLength : null,
  };
  // storage-api's operation names: POST (with or without x-upsert) is `upload`, PUT is `upload_update`.
  const scope = ctx.scopeFor(
    req,
    caller,
    req.method === "PUT" ? "storage.object.upload_update" : "storage.object.upload",
  );

  // 1. Permission probe as the caller, always rolled back (RLS denial → 403, existing object → 409
  //    KeyAlreadyExists).
  await testPermission(ctx.sql, scope, (tx) =>
    isUpsert
      ? tx`
          insert into storage.objects (bucket_id, name, owner, owner_id, version, metadata, user_metadata)
          values (${bucketId}, ${name}, ${ownerUuid}, ${owner}, '1', ${ctx.sql.json(probeMetadata)},
                  ${
        file.userMetadata === null ? null : ctx.sql.json(file.userMetadata as postgres.JSONValue)
      })
          on conflict (name, bucket_id) do update
             set metadata = excluded.metadata, user_metadata = excluded.user_metadata,
                 version = excluded.version, owner = excluded.owner, owner_id = excluded.owner_id`
      : tx`
          insert into storage.objects (bucket_id, name, owner, owner_id, version, metadata, user_metadata)
          values (${bucketId}, ${name}, ${ownerUuid}, ${owner}, '1', ${ctx.sql.json(probeMetadata)},
                  ${
        file.userMetadata === null ? null : ctx.sql.json(file.userMetadata as postgres.JSONValue)
      })`).catch((err) => {
      if ((err as { code?: unknown })?.code === "23505") throw ERRORS.keyAlreadyExists();
      throw err;
    });

  // 2. The bytes, as a new version file.
  const bytes = file.bytes ?? await readLimited(req, maxUploadSize(ctx, bucket));
  const version = crypto.randomUUID();
  const stored = await ctx.disk.write(bucketId, name, version, bytes);
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
    row = await withScope(ctx.sql, { ...scope, caller: ctx.serviceCaller() }, async (tx) => {
      // Lock, current version and write are queued together (one round trip); PostgreSQL runs them in order.
      const lock = tx`select pg_advisory_xact_lock(hashtextextended(${bucketId + "/" + name}, 0))`;
      const previous = tx<{ version: string | null }[]>`
        select version from storage.objects where bucket_id = ${bucketId} and name = ${name} for update`;
      const write = tx<{ id: string }[]>`
        insert into storage.objects (bucket_id, name, owner, owner_id, version, metadata, user_metadata)
        values (${bucketId}, ${name}, ${ownerUuid}, ${owner}, ${version}, ${ctx.sql.json(metadata)},
                ${file.userMetadata === null ? null : ctx.sql.json(file.userMetadata as postgres.JSONValue)})
        on conflict (name, bucket_id) do update
           set metadata = excluded.metadata, user_metadata = excluded.user_metadata,
               version = excluded.version, owner = excluded.owner, owner_id = excluded.owner_id,
               updated_at = now()
        returning id`;
      const [, [current], [written]] = await Promise.all([lock, previous, write]);
      return { id: written.id, previous_version: current?.version ?? null };
    });
  } catch (err) {
    await discardUncommittedVersion(ctx, bucketId, name, version);
    throw err;
  }
  if (row.previous_version && row.previous_version !== version) {
    await ctx.disk.remove(bucketId, name, row.previous_version);
  }
  ctx.log({ event: "storage_upload", bucket: bucketId, name, size: stored.size, upsert: isUpsert });
  return json({ Id: row.id, Key: `${bucketId}/${name}` });
}
