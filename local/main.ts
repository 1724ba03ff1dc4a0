/**
 * `deno task start` (the README's run command): brings up the local stack and prints its URLs.
 * Until the gateway exists this is PostgreSQL only; the main-job issue grows it into the demo run.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { start } from "./db.ts";
import { databaseUrl, REPO_ROOT } from "./paths.ts";

const stack = join(REPO_ROOT, "local", "stack.ts");
if (existsSync(stack)) {
  const res = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", stack, "start", ...Deno.args] })
    .spawn()
    .status;
  Deno.exit(res.code);
}
await start();
console.log(`         DB URL: ${databaseUrl()}`);
