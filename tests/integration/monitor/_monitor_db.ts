/**
 * Runs a test inside one database transaction that is always rolled back, on an empty pipeline: no
 * conversations, raw objects or alerts are visible inside it, and nothing it writes survives. The monitor's
 * own transactions become savepoints (postgresMonitorStore accepts a transaction), so a whole monitor cycle —
 * snapshot, decisions, alert writes, notice leases — runs against real SQL without touching shared state.
 */
import { createSql, type TxSql } from "../../../shared/adapters/postgres_sql.ts";
import { databaseUrl } from "../../../local/paths.ts";

class Rollback extends Error {}

export async function withEmptyPipeline(fn: (tx: TxSql) => Promise<void>): Promise<void> {
  const sql = createSql(databaseUrl(), { max: 1 });
  try {
    await sql.begin(async (tx) => {
      await tx`set local storage.allow_delete_query = 'true'`;
      await tx`delete from storage.objects where bucket_id = 'conversation-files'`;
      await tx`delete from public.conversations`;
      await tx`delete from public.generation_batches`;
      await tx`delete from public.alerts`;
      await fn(tx);
      throw new Rollback();
    });
  } catch (err) {
    if (!(err instanceof Rollback)) throw err;
  } finally {
    await sql.end();
  }
}

export async function createUser(tx: TxSql): Promise<string> {
  const [row] = await tx`
    insert into auth.users (id, email, role, aud)
    values (gen_random_uuid(), 'monitor-' || gen_random_uuid() || '@test.local', 'authenticated', 'authenticated')
    returning id::text as id`;
  return String(row.id);
}

export interface Fixture {
  status: string;
  /** Minutes since the row was created. */
  ageMinutes: number;
  /** Minutes since its raw was stored (null: no raw path). */
  storedMinutes?: number | null;
  sizeBytes?: number;
  review?: boolean;
  method?: string | null;
  error?: string | null;
  count?: number;
}

/** Inserts conversation rows; returns their conversation ids. */
export async function insertConversations(tx: TxSql, userId: string, f: Fixture): Promise<string[]> {
  const rows = await tx`
    insert into public.conversations (user_id, processing_status, created_at, updated_at, raw_response_path,
                                      raw_response_size, raw_stored_at, requires_manual_review, parse_method_used,
                                      parse_error_message, generation_error)
    select ${userId}::uuid, ${f.status}, now() - make_interval(mins => ${f.ageMinutes}),
           now() - make_interval(mins => ${f.storedMinutes ?? f.ageMinutes}),
           case when ${f.storedMinutes ?? null}::int is not null
                then 'raw/' || ${userId} || '/' || gen_random_uuid() || '.json' end,
           case when ${f.storedMinutes ?? null}::int is not null then ${f.sizeBytes ?? 1000}::bigint end,
           now() - make_interval(mins => ${f.storedMinutes ?? null}::int),
           ${f.review ?? false}, ${f.method ?? null},
           case when ${f.status} = 'parse_failed' then ${f.error ?? null} end,
           case when ${f.status} = 'generation_failed' then ${f.error ?? null} end
      from generate_series(1, ${f.count ?? 1})
    returning conversation_id::text as id`;
  return rows.map((r) => String(r.id));
}

/**
 * A user's own uploads to raw/ the way the Storage API writes them (owner_id = the user): the storage trigger
 * creates `uploaded` rows, which are then put in the review queue as a failed parse would.
 */
export async function uploadedReviewItems(tx: TxSql, userId: string, count: number): Promise<string[]> {
  const rows = await tx`
    insert into storage.objects (bucket_id, name, owner_id, metadata)
    select 'conversation-files', 'raw/' || ${userId} || '/' || gen_random_uuid() || '.json', ${userId},
           '{"size": 100}'::jsonb
      from generate_series(1, ${count})
    returning split_part(split_part(name, '/', 3), '.', 1) as id`;
  const ids = rows.map((r) => String(r.id));
  await tx`
    update public.conversations
       set processing_status = 'parse_failed', requires_manual_review = true,
           parse_error_message = 'Cannot parse: not a conversation'
     where conversation_id = any(${ids}::uuid[])`;
  return ids;
}

/** Spools raw bytes for a raw_spooled conversation (Storage refused them `ageMinutes` ago). */
export async function spool(
  tx: TxSql,
  userId: string,
  conversationId: string,
  ageMinutes: number,
): Promise<void> {
  await tx`
    insert into public.raw_response_spool (conversation_id, user_id, raw, raw_sha256, raw_size, created_at,
                                           upload_attempts, last_error)
    values (${conversationId}::uuid, ${userId}::uuid, convert_to('{"id":"msg"}', 'UTF8'),
            encode(sha256(convert_to('{"id":"msg"}', 'UTF8')), 'hex'), 12,
            now() - make_interval(mins => ${ageMinutes}), 3, 'Storage answered 503')`;
}
