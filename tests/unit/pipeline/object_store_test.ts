import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { CONVERSATION_BUCKET } from "../../../shared/pipeline/object_store.ts";

Deno.test("CONVERSATION_BUCKET names the private bucket the migrations create", () => {
  const dir = new URL("../../../supabase/migrations/", import.meta.url);
  const creating = readdirSync(dir).filter((f) =>
    /insert into storage\.buckets/i.test(readFileSync(new URL(f, dir), "utf8"))
  );
  assert.ok(creating.length > 0, "a migration creates the bucket");
  const sql = creating.map((f) => readFileSync(new URL(f, dir), "utf8")).join("\n");
  assert.ok(sql.includes(`'${CONVERSATION_BUCKET}'`), `the migrations create '${CONVERSATION_BUCKET}'`);
});
