/**
 * `deno task secrets:sync [--db-url URL] [--project-url URL] [--service-key KEY]`
 *
 * Writes the two Vault secrets the database uses to call Edge Functions (see
 * supabase/migrations/20251118000000_create_edge_function_invoker.sql): `project_url` and `service_role_key`.
 * Without flags it targets the local stack (its state file `stack.env.json`); for a real project pass the
 * project's DB URL, https://<ref>.supabase.co and its service key (or set SUPABASE_DB_URL, SUPABASE_URL,
 * SUPABASE_SERVICE_ROLE_KEY). Re-running replaces the values.
 */
import { parseCli } from "../local/parse_cli.ts";
import { databaseUrl } from "../local/paths.ts";
import { tryReadStackEnv } from "../local/stack_env.ts";
import { syncSecrets } from "../local/sync_secrets.ts";

if (import.meta.main) {
  const { values } = parseCli("secrets:sync", import.meta.url, {
    "db-url": { type: "string" },
    "project-url": { type: "string" },
    "service-key": { type: "string" },
  });
  const local = tryReadStackEnv();
  const dbUrl = values["db-url"] ?? Deno.env.get("SUPABASE_DB_URL") ?? databaseUrl();
  const projectUrl = values["project-url"] ?? Deno.env.get("SUPABASE_URL") ?? local?.SUPABASE_URL;
  const key = values["service-key"] ?? Deno.env.get("SUPABASE_SERVICE_ROLE_KEY") ??
    local?.SUPABASE_SERVICE_ROLE_KEY;
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
