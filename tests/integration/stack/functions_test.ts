/**
 * The gateway's Edge Functions host, through supabase-js `functions.invoke` and plain fetch, against the
 * test-only functions in tests/fixtures/functions: verify_jwt, the platform's error responses (401, 404, 500
 * WORKER_ERROR, 503 BOOT_ERROR, 546 WORKER_LIMIT), the hosted environment, streaming, EdgeRuntime.waitUntil.
 */
import assert from "node:assert/strict";
import { FunctionsHttpError } from "@supabase/supabase-js";
import {
  anonKey,
  createTestUser,
  eventually,
  functionsUrl,
  mintUserToken,
  requireTestFunctions,
  serviceClient,
  sql,
  stackEnv,
  stackTest,
  userClient,
} from "../../support/stack.ts";

interface Echo {
  method: string;
  url: string;
  path: string;
  search: string;
  body: string;
  authorization: boolean;
  x_custom: string | null;
  env: {
    names: string[];
    SUPABASE_URL: string | null;
    SUPABASE_DB_URL_set: boolean;
    SUPABASE_ANON_KEY_is_jwt: boolean;
    SUPABASE_SERVICE_ROLE_KEY_is_jwt: boolean;
    secret_key_names: string[];
    publishable_key_names: string[];
    ANTHROPIC_BASE_URL: string | null;
    ANTHROPIC_API_KEY_set: boolean;
  };
  edge_runtime: string;
  execution_id: string | null;
}

async function errorBody(err: unknown): Promise<{ status: number; body: unknown }> {
  assert.ok(err instanceof FunctionsHttpError, `expected FunctionsHttpError, got ${err}`);
  const res = err.context as Response;
  return { status: res.status, body: await res.json() };
}

stackTest("functions.invoke with a user's JWT reaches the function with the request as sent", async () => {
  await requireTestFunctions();
  const user = await createTestUser();
  const { data, error } = await userClient(user.token).functions.invoke<Echo>("stack-echo", {
    body: { hello: "world" },
    headers: { "x-custom": "yes" },
  });
  assert.equal(error, null);
  assert.equal(data?.method, "POST");
  assert.equal(data?.path, "/stack-echo");
  assert.deepEqual(JSON.parse(data!.body), { hello: "world" });
  assert.equal(data?.authorization, true);
  assert.equal(data?.x_custom, "yes");
  assert.ok(
    data?.url.startsWith(stackEnv().SUPABASE_URL + "/stack-echo"),
    "the function sees the public URL",
  );
});

stackTest("functions: sub-paths and query strings are passed through", async () => {
  await requireTestFunctions();
  const res = await fetch(`${functionsUrl("stack-echo")}/items/42?x=1&y=two`, {
    headers: { authorization: `Bearer ${anonKey()}` },
  });
  assert.equal(res.status, 200);
  const echo = await res.json() as Echo;
  assert.equal(echo.method, "GET");
  assert.equal(echo.path, "/stack-echo/items/42");
  assert.equal(echo.search, "?x=1&y=two");
});

stackTest(
  "functions: verify_jwt refuses a missing, invalid or expired token with the platform's 401",
  async () => {
    await requireTestFunctions();
    const missing = await fetch(functionsUrl("stack-echo"), { method: "POST" });
    assert.equal(missing.status, 401);
    assert.deepEqual(await missing.json(), { code: 401, message: "Missing authorization header" });

    const user = await createTestUser();
    for (
      const token of [
        "not-a-jwt",
        await mintUserToken(user.id, { expiresIn: -10 }),
        await mintUserToken(user.id, { secret: "a-different-secret-with-at-least-32-characters" }),
      ]
    ) {
      const { error } = await userClient(token).functions.invoke("stack-echo", { body: {} });
      assert.deepEqual(await errorBody(error), { status: 401, body: { code: 401, message: "Invalid JWT" } });
    }
  },
);

stackTest(
  "functions: the anon key and the sb_publishable_ key pass verify_jwt (as on hosted Supabase)",
  async () => {
    await requireTestFunctions();
    const anon = await fetch(functionsUrl("stack-echo"), {
      headers: { authorization: `Bearer ${anonKey()}` },
    });
    assert.equal(anon.status, 200);
    await anon.body?.cancel();
    const publishable = stackEnv().SUPABASE_PUBLISHABLE_KEY;
    assert.ok(publishable);
    const res = await fetch(functionsUrl("stack-echo"), { headers: { apikey: publishable } });
    assert.equal(res.status, 200);
    const echo = await res.json() as Echo;
    assert.equal(echo.authorization, true, "the gateway swapped the publishable key for the anon JWT");
  },
);

stackTest(
  "functions: verify_jwt = false serves requests without a token; OPTIONS always passes",
  async () => {
    await requireTestFunctions();
    const open = await fetch(functionsUrl("stack-public-echo"), { method: "POST", body: "{}" });
    assert.equal(open.status, 200);
    assert.equal((await open.json() as Echo).authorization, false);
    const preflight = await fetch(functionsUrl("stack-echo"), { method: "OPTIONS" });
    assert.notEqual(preflight.status, 401);
    await preflight.body?.cancel();
  },
);

stackTest("functions: unknown functions and _-prefixed folders are 404 NOT_FOUND", async () => {
  await requireTestFunctions();
  for (const name of [`no-such-function-${crypto.randomUUID().slice(0, 6)}`, "_shared"]) {
    const res = await fetch(functionsUrl(name), { headers: { authorization: `Bearer ${anonKey()}` } });
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { code: "NOT_FOUND", message: "Requested function was not found" });
  }
});

stackTest("functions: a throwing handler gives 500 WORKER_ERROR and no internal detail", async () => {
  await requireTestFunctions();
  const { error } = await serviceClient().functions.invoke("stack-throws", { body: {} });
  const { status, body } = await errorBody(error);
  assert.equal(status, 500);
  assert.deepEqual(body, { code: "WORKER_ERROR", message: "Function exited due to an error" });
  // The worker survives a throwing handler: the next request gets the same answer, not a boot error.
  const again = await serviceClient().functions.invoke("stack-throws", { body: {} });
  assert.equal((await errorBody(again.error)).status, 500);
});

stackTest("functions: a module that fails to load gives 503 BOOT_ERROR", async () => {
  await requireTestFunctions();
  const { error } = await serviceClient().functions.invoke("stack-boot-error", { body: {} });
  assert.deepEqual(await errorBody(error), {
    status: 503,
    body: { code: "BOOT_ERROR", message: "Worker failed to boot (please check logs)" },
  });
});

stackTest(
  "functions: imports resolve through the function's deploy import map, never the root deno.json",
  async () => {
    await requireTestFunctions();
    // stack-no-import-map imports "zod" with no import_map in config.toml: it would not deploy, so it does not
    // boot here either. stack-wait-until names supabase/import_map.json and imports postgres through it.
    const { error } = await serviceClient().functions.invoke("stack-no-import-map", { body: {} });
    assert.deepEqual(await errorBody(error), {
      status: 503,
      body: { code: "BOOT_ERROR", message: "Worker failed to boot (please check logs)" },
    });
    const res = await fetch(functionsUrl("stack-wait-until"), { method: "OPTIONS" });
    const text = await res.text();
    assert.ok(res.status !== 503 && !text.includes("BOOT_ERROR"), `stack-wait-until boots (${res.status})`);
  },
);

stackTest(
  "functions: past the wall-clock limit the platform answers 546 WORKER_LIMIT and recycles the worker",
  async () => {
    await requireTestFunctions();
    // stack-slow has wall_clock_limit_ms = 1500 (tests/fixtures/functions/config.toml).
    const started = Date.now();
    const res = await fetch(`${functionsUrl("stack-slow")}?ms=5000`);
    assert.equal(res.status, 546);
    assert.equal((await res.json()).code, "WORKER_LIMIT");
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1400 && elapsed < 4000, `answered after ${elapsed} ms`);
    const fast = await fetch(`${functionsUrl("stack-slow")}?ms=10`);
    assert.equal(fast.status, 200);
    assert.deepEqual(await fast.json(), { slept_ms: 10 });
  },
);

stackTest("functions: the worker gets the hosted environment and nothing from the shell", async () => {
  await requireTestFunctions();
  const { data, error } = await serviceClient().functions.invoke<Echo>("stack-echo", { body: {} });
  assert.equal(error, null);
  const env = data!.env;
  assert.equal(env.SUPABASE_URL, stackEnv().SUPABASE_URL);
  assert.ok(env.SUPABASE_DB_URL_set && env.SUPABASE_ANON_KEY_is_jwt && env.SUPABASE_SERVICE_ROLE_KEY_is_jwt);
  assert.deepEqual(env.secret_key_names, ["default"]);
  assert.deepEqual(env.publishable_key_names, ["default"]);
  assert.ok(env.ANTHROPIC_API_KEY_set);
  if (!Deno.env.get("ANTHROPIC_API_KEY")) assert.equal(env.ANTHROPIC_BASE_URL, stackEnv().ANTHROPIC_BASE_URL);
  for (const leaked of ["HOME", "LOCAL_STACK_DIR", "DATABASE_URL", "USER", "PWD"]) {
    assert.ok(!env.names.includes(leaked), `${leaked} must not reach the function`);
  }
  assert.equal(data!.edge_runtime, "object", "EdgeRuntime is defined");
});

stackTest(
  "functions: responses stream through the gateway (first event before the last is produced)",
  async () => {
    await requireTestFunctions();
    const started = Date.now();
    const res = await fetch(`${functionsUrl("stack-stream")}?pause=400`, {
      headers: { authorization: `Bearer ${anonKey()}` },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    const reader = res.body!.getReader();
    const first = await reader.read();
    const firstAt = Date.now() - started;
    let text = new TextDecoder().decode(first.value);
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    const total = Date.now() - started;
    assert.equal(text.match(/^data: /gm)?.length, 3);
    assert.ok(total - firstAt >= 600, `first chunk at ${firstAt} ms, end at ${total} ms: not streamed`);
  },
);

stackTest("functions: EdgeRuntime.waitUntil work finishes after the response was sent", async () => {
  await requireTestFunctions();
  await sql().unsafe(`
    create schema if not exists stack_test;
    create table if not exists stack_test.wait_until_marks (marker text primary key, at timestamptz default now())`);
  const marker = crypto.randomUUID();
  const res = await fetch(functionsUrl("stack-wait-until"), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ marker, delay_ms: 300 }),
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { accepted: marker });
  const [early] = await sql()`select 1 from stack_test.wait_until_marks where marker = ${marker}`;
  assert.equal(early, undefined, "the background task has not run yet when the response arrives");
  await eventually(async () => {
    const [row] = await sql()`select 1 from stack_test.wait_until_marks where marker = ${marker}`;
    return row;
  }, { what: "the waitUntil task's row", timeoutMs: 5000 });
});

stackTest(
  "functions: a file change or POST /_internal/reload replaces the worker; in-flight requests finish",
  async () => {
    await requireTestFunctions();
    const headers = { authorization: `Bearer ${anonKey()}` };
    const executionId = async () =>
      ((await (await fetch(functionsUrl("stack-echo"), { headers })).json()) as Echo).execution_id;
    const first = await executionId();
    assert.equal(await executionId(), first, "a warm worker serves the next request");

    const inflight = fetch(`${functionsUrl("stack-slow")}?ms=700`);
    await new Promise((r) => setTimeout(r, 200));
    const reload = await fetch(`${stackEnv().SUPABASE_URL}/_internal/reload`, { method: "POST" });
    assert.ok(((await reload.json()) as { retired: number }).retired >= 1);
    const slow = await inflight;
    assert.equal(slow.status, 200, "the retired worker finished its request");
    await slow.body?.cancel();
    const second = await executionId();
    assert.notEqual(second, first);

    // Rewriting a file with the same bytes is a change for the file watcher (hot reload), not for git.
    const file = new URL("../../fixtures/functions/stack-echo/index.ts", import.meta.url);
    Deno.writeTextFileSync(file, Deno.readTextFileSync(file));
    await eventually(async () => (await executionId()) !== second ? true : null, {
      what: "a new worker after the file change",
      timeoutMs: 5000,
    });
  },
);
