/**
 * Where the local stack keeps its state, and the fixed ports it uses (those of `supabase start`).
 * Shared by the database manager, the gateway and the test runner.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT: string = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
/** Ports default to `supabase start`'s; override them to run a second stack beside the first. */
export const DB_PORT = Number(Deno.env.get("LOCAL_DB_PORT") ?? 54322);
export const API_PORT = Number(Deno.env.get("LOCAL_API_PORT") ?? 54321);
/** The Claude stand-in (local/claude_standin/), served by the gateway process on its own port. */
export const CLAUDE_PORT = Number(Deno.env.get("LOCAL_CLAUDE_PORT") ?? 54330);
/** The review console's static files (console/), served by the gateway process like Studio on 54323. */
export const CONSOLE_PORT = Number(Deno.env.get("LOCAL_CONSOLE_PORT") ?? 54323);
export const DB_NAME = "postgres";
export const PG_BIN = Deno.env.get("PG_BIN") ?? "/usr/lib/postgresql/15/bin";

/** The folder for the cluster, storage bytes, logs and pid files (ignored by git). */
export function stateDir(): string {
  return Deno.env.get("LOCAL_STACK_DIR") ?? join(REPO_ROOT, ".local-stack");
}

export function localDbUrl(): string {
  return `postgresql://postgres:postgres@127.0.0.1:${DB_PORT}/${DB_NAME}`;
}

/** DATABASE_URL, when set, points everything at an existing database (no cluster is managed). */
export function databaseUrl(): string {
  return Deno.env.get("DATABASE_URL") ?? localDbUrl();
}

export function isExternalDatabase(): boolean {
  return Deno.env.get("DATABASE_URL") !== undefined;
}

/** The Supabase CLI refuses TLS-less servers unless the URL says so. */
export function cliDbUrl(url: string = databaseUrl()): string {
  if (/[?&]sslmode=/.test(url)) return url;
  return url + (url.includes("?") ? "&" : "?") + "sslmode=disable";
}

export const TOOLS_BIN = join(REPO_ROOT, "tools", "node_modules", ".bin");
