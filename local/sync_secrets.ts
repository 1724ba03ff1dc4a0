/**
 * The two Vault secrets the database uses to call Edge Functions (supabase/migrations/
 * 20251118000000_create_edge_function_invoker.sql): `project_url` and `service_role_key`. Written by
 * `deno task stack:start` for the local stack and by `deno task secrets:sync` (cli/secrets_sync.ts) for any
 * project; tests and benchmarks call it to point the pipeline at their stack.
 */
import postgres from "postgres";

/** Creates or replaces both secrets, each in its own transaction (re-running is safe: it replaces the values). */
export async function syncSecrets(dbUrl: string, projectUrl: string, serviceKey: string): Promise<void> {
  const sql = postgres(dbUrl, { prepare: false, max: 1, onnotice: () => {} });
  try {
    for (const [name, value] of [["project_url", projectUrl], ["service_role_key", serviceKey]] as const) {
      await sql.begin(async (tx) => {
        const [row] = await tx<{ id: string }[]>`select id from vault.secrets where name = ${name}`;
        if (row) await tx`select vault.update_secret(${row.id}::uuid, ${value})`;
        else {
          await tx`select vault.create_secret(${value}, ${name}, ${"used by private.invoke_edge_function"})`;
        }
      });
    }
  } finally {
    await sql.end();
  }
}
