/**
 * `deno task secrets:sync [--db-url URL] [--project-url URL] [--service-key KEY]`
 *
 * Writes the two Vault secrets the database uses to call Edge Functions (see
 * supabase/migrations/20251118000000_create_edge_function_invoker.sql): `project_url` and `service_role_key`.
 * Without flags it targets the local stack (its state file `stack.env.json`); for a real project pass the
 * project's DB URL, https://<ref>.supabase.co and its service key (or set SUPABASE_DB_URL, SUPABASE_URL,
 * SUPABASE_SERVICE_ROLE_KEY). Re-running replaces the values.
 */
import postgres from "postgres";
import { parseCli } from "./_cli.ts";
import { join } from "node:path";
import { databaseUrl, stateDir } from "../local/paths.ts";

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

function localStackValues(): { url?: string; key?: string } {
  try {
    const env = JSON.parse(Deno.readTextFileSync(join(stateDir(), "stack.env.json")));
    return { url: env.SUPABASE_URL, key: env.SUPABASE_SERVICE_ROLE_KEY };
  } catch {
    return {};
  }
}

if (import.meta.main) {
  const { values } = parseCli("secrets:sync", import.meta.url, {
    "db-url": { type: "string" },
    "project-url": { type: "string" },
    "service-key": { type: "string" },
  });
  const local = localStackValues();
  const dbUrl = values["db-url"] ?? Deno.env.get("SUPABASE_DB_URL") ?? databaseUrl();
  const projectUrl = values["project-url"] ?? Deno.env.get("SUPABASE_URL") ?? local.url;
  const key = values["service-key"] ?? Deno.env.get("SUPABASE_SERVICE_ROLE_KEY") ?? local.key;
  if (!projectUrl || !key) {
    console.error(
      "secrets:sync: no project URL or service key: start the local stack, or pass --project-url and --service-key",
    );
    Deno.exit(2);
  }
  try {
    await syncSecrets(dbUrl, projectUrl, key);
    console.log(`Vault secrets project_url and service_role_key set (project_url = ${projectUrl})`);
  } catch (err) {
    console.error(
      `secrets:sync: cannot write the Vault secrets: ${err instanceof Error ? err.message : err}`,
    );
    Deno.exit(1);
  }
}
