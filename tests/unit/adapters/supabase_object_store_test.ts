import assert from "node:assert/strict";
import { createClient } from "@supabase/supabase-js";
import { supabaseObjectStore } from "../../../shared/adapters/supabase_object_store.ts";

/** An object store whose HTTP answers come from `answer` (storage-api's shapes: HTTP 400, string statusCode). */
function storeAnswering(answer: () => Response) {
  const client = createClient("http://storage.test", "service-key", {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: { fetch: () => Promise.resolve(answer()) },
  });
  return supabaseObjectStore("http://storage.test", "service-key", "conversation-files", client);
}

const storageError = (statusCode: string, code: string, message: string) => () =>
  new Response(JSON.stringify({ statusCode, code, error: message, message }), {
    status: 400,
    headers: { "content-type": "application/json" },
  });

Deno.test("supabaseObjectStore().download() reads NoSuchKey as a missing object", async () => {
  const res = await storeAnswering(storageError("404", "NoSuchKey", "Object not found")).download(
    "raw/a/b.json",
  );
  assert.deepEqual(res, { ok: false, kind: "not_found" });
});

Deno.test(
  "supabaseObjectStore().download() reads NoSuchBucket (the real server's answer to a bad key) as unavailable",
  async () => {
    const res = await storeAnswering(storageError("404", "NoSuchBucket", "Bucket not found")).download(
      "raw/a/b.json",
    );
    assert.equal(res.ok, false);
    assert.equal(!res.ok && res.kind, "unavailable", "an auth failure is retried and reported, never 'gone'");
    assert.match(!res.ok && res.kind === "unavailable" ? res.message : "", /service key/);
  },
);

Deno.test("supabaseObjectStore().download() reads AccessDenied as unavailable", async () => {
  const res = await storeAnswering(storageError("403", "AccessDenied", "signature verification failed"))
    .download("raw/a/b.json");
  assert.equal(!res.ok && res.kind, "unavailable");
});
