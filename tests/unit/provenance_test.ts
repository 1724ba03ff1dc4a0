import assert from "node:assert/strict";
import { CONVERSATION_SOURCES } from "../../shared/provenance.ts";

const MIGRATIONS = new URL("../../supabase/migrations/", import.meta.url);

Deno.test("CONVERSATION_SOURCES equals the newest conversations_source_check in the migrations", () => {
  const files = [...Deno.readDirSync(MIGRATIONS)].map((e) => e.name).filter((n) => n.endsWith(".sql")).sort();
  let latest: string[] | null = null;
  for (const name of files) {
    const sql = Deno.readTextFileSync(new URL(name, MIGRATIONS));
    for (const m of sql.matchAll(/conversations_source_check\s+check\s*\(\s*source\s+in\s*\(([^)]*)\)/gi)) {
      latest = [...m[1].matchAll(/'([^']*)'/g)].map((v) => v[1]);
    }
  }
  assert.ok(latest, "no conversations_source_check found in supabase/migrations");
  assert.deepEqual([...CONVERSATION_SOURCES].sort(), [...latest].sort());
});

Deno.test("CONVERSATION_SOURCES names each source once, in snake_case", () => {
  assert.equal(new Set(CONVERSATION_SOURCES).size, CONVERSATION_SOURCES.length);
  for (const s of CONVERSATION_SOURCES) assert.match(s, /^[a-z][a-z_]*$/);
  assert.ok(CONVERSATION_SOURCES.includes("generated"), "the export's default source must exist");
});
