/**
 * POST /object/list/:bucket: one folder level under {prefix} (folders first-class, as storage-api's
 * `storage.search`), with {limit, offset, sortBy, search}, as the caller.
 */
import { iso, json, type ObjectRow, type StorageContext } from "../../context.ts";
import { ERRORS } from "../../errors.ts";
import { withScope } from "../../scope.ts";

/** Lists one level of the bucket as the caller (RLS decides what is seen). */
export async function listObjects(ctx: StorageContext, req: Request, bucketId: string): Promise<Response> {
  const caller = await ctx.callerFrom(req, false);
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
  const rows = await withScope(
    ctx.sql,
    ctx.scopeFor(req, caller, "storage.object.list"),
    (tx) =>
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
       order by ${
        column === "name" ? ctx.sql`lower(name) collate "C"` : ctx.sql`is_folder desc, ${ctx.sql(column)}`
      }
                ${desc ? ctx.sql`desc` : ctx.sql`asc`}, name
       limit ${limit} offset ${offset}`,
  );
  return json(rows.map((r) => ({
    name: r.name,
    id: r.id,
    updated_at: iso(r.updated_at),
    created_at: iso(r.created_at),
    last_accessed_at: iso(r.last_accessed_at),
    metadata: r.metadata,
  })));
}
