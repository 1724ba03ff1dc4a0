/**
 * generate-conversation as deployed on the local stack: through the gateway (verify_jwt), the functions host,
 * the Storage API, the storage trigger and the Claude stand-in — the same HTTP a client uses.
 */
import assert from "node:assert/strict";
import { CONVERSATION_BUCKET } from "../../../shared/pipeline/object_store.ts";
import { sha256Hex } from "../../../shared/pipeline/sha256.ts";
import { parseServerTiming } from "../../../shared/http/server_timing.ts";
import { malformedRequests } from "../../fixtures/generate/malformed_requests.ts";
import {
  anonKey,
  createTestUser,
  mintUserToken,
  serviceClient,
  serviceKey,
  sql,
  stackEnv,
  stackTest,
} from "../../support/stack.ts";
import { ensurePipelineSecrets, SEED, SEED_BODY } from "./_helpers.ts";

await ensurePipelineSecrets();

const body = SEED_BODY;

function url(): string {
  return `${stackEnv().SUPABASE_URL}/functions/v1/generate-conversation`;
}

function generate(
  token: string,
  payload: unknown = body,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url(), {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(payload),
  });
}

async function rowCount(userId: string): Promise<number> {
  const [{ n }] = await sql()`select count(*)::int as n from public.conversations where user_id = ${userId}`;
  return n;
}

stackTest("generate-conversation stores the raw response, records its metadata and answers 201", async () => {
  const user = await createTestUser();
  const res = await generate(user.token);
  assert.equal(res.status, 201, await res.clone().text());
  const json = await res.json();
  assert.match(json.conversation_id, /^[0-9a-f-]{36}$/);
  assert.ok(["raw_stored", "parsing", "completed"].includes(json.processing_status), json.processing_status);
  assert.equal(json.raw_response_path, `raw/${user.id}/${json.conversation_id}.json`);
  const timing = parseServerTiming(res.headers.get("server-timing"));
  for (const phase of ["claude", "raw_store", "db", "total"]) assert.ok(phase in timing, phase);

  const { data, error } = await serviceClient().storage.from(CONVERSATION_BUCKET).download(
    json.raw_response_path,
  );
  assert.equal(error, null);
  const bytes = new Uint8Array(await data!.arrayBuffer());
  const message = JSON.parse(new TextDecoder().decode(bytes));
  assert.equal(message.type, "message");
  const [row] =
    await sql()`select * from public.conversations where conversation_id = ${json.conversation_id}`;
  assert.equal(row.user_id, user.id);
  assert.equal(row.raw_sha256, await sha256Hex(bytes), "the recorded sha256 is the stored object's");
  assert.equal(row.stop_reason, message.stop_reason);
  assert.equal(row.model, message.model);
  assert.equal(row.input_tokens, message.usage.input_tokens);
  assert.equal(row.output_tokens, message.usage.output_tokens);
  assert.ok(Number(row.cost_usd) > 0);
  assert.equal(row.persona_id, SEED.persona);
  assert.equal(row.emotional_arc_key, "confusion_to_clarity");
  assert.equal(row.template_id, "40000000-0000-4000-8000-000000000001", "the arc's template for the tier");
  assert.equal(row.scaffolding_snapshot.persona.persona_key, "anxious_planner");
  assert.ok(row.raw_stored_at instanceof Date);
});

stackTest("generate-conversation lets the service key act for a user named in x-user-id", async () => {
  const user = await createTestUser();
  const res = await generate(serviceKey(), body, { "x-user-id": user.id });
  assert.equal(res.status, 201, await res.clone().text());
  const json = await res.json();
  const [row] =
    await sql()`select user_id from public.conversations where conversation_id = ${json.conversation_id}`;
  assert.equal(row.user_id, user.id);
});

stackTest(
  "generate-conversation accepts the new sb_secret_ key (Bearer or apikey) with x-user-id",
  async () => {
    const secret = stackEnv().SUPABASE_SECRET_KEY;
    assert.ok(secret, "the stack publishes its sb_secret_ key");
    const user = await createTestUser();
    const ways: Record<string, string>[] = [{ authorization: `Bearer ${secret}` }, { apikey: secret! }];
    for (const auth of ways) {
      const res = await fetch(url(), {
        method: "POST",
        headers: {
          ...auth,
          "content-type": "application/json",
          "x-user-id": user.id,
          prefer: "respond-async",
        },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 201, await res.clone().text());
      await res.body?.cancel();
    }
    assert.equal(await rowCount(user.id), 2);
  },
);

stackTest("generate-conversation replays an Idempotency-Key and refuses it with another body", async () => {
  const user = await createTestUser();
  const key = `idem-${crypto.randomUUID()}`;
  const first = await generate(user.token, body, { "idempotency-key": key });
  assert.equal(first.status, 201);
  const firstJson = await first.json();
  const again = await generate(user.token, { ...body }, { "idempotency-key": key });
  assert.equal(again.status, 200);
  assert.equal(again.headers.get("idempotent-replayed"), "true");
  assert.equal((await again.json()).conversation_id, firstJson.conversation_id);
  const changed = await generate(user.token, { ...body, tier: "scenario" }, { "idempotency-key": key });
  assert.equal(changed.status, 409);
  const err = await changed.json();
  assert.equal(err.error.code, "conflict");
  assert.equal(err.error.conversation_id, firstJson.conversation_id);
  assert.equal(await rowCount(user.id), 1);
  const other = await createTestUser();
  const otherUser = await generate(other.token, body, { "idempotency-key": key });
  assert.equal(otherUser.status, 201, "keys are scoped per user");
});

stackTest("generate-conversation gives 20 parallel requests 20 distinct rows and objects", async () => {
  const user = await createTestUser();
  const responses = await Promise.all(
    Array.from({ length: 20 }, () => generate(user.token, body, { prefer: "respond-async" })),
  );
  const statuses = responses.map((r) => r.status);
  const jsons = await Promise.all(responses.map((r) => r.json()));
  assert.deepEqual(statuses, Array(20).fill(201), JSON.stringify(jsons.filter((j) => j.error)));
  const ids = new Set(jsons.map((j) => j.conversation_id));
  assert.equal(ids.size, 20);
  assert.equal(await rowCount(user.id), 20);
  const [{ n }] = await sql()`select count(*)::int as n from storage.objects
                               where bucket_id = ${CONVERSATION_BUCKET} and name like ${`raw/${user.id}/%`}`;
  assert.equal(n, 20);
});

stackTest(
  "generate-conversation answers every malformed request with a 4xx JSON error and writes no row",
  async () => {
    const user = await createTestUser();
    const cases = malformedRequests({
      userToken: user.token,
      anonKey: anonKey(),
      serviceKey: serviceKey(),
      expiredUserToken: await mintUserToken(user.id, { expiresIn: -60 }),
      userId: user.id,
      personaId: SEED.persona,
      arcId: SEED.arc,
      topicId: SEED.topic,
    });
    assert.ok(cases.length >= 30);
    const failures: string[] = [];
    for (const c of cases) {
      const res = await fetch(url(), {
        method: c.method,
        headers: c.headers,
        body: c.body as BodyInit | null,
      });
      const text = await res.text();
      let json: { error?: { code?: string }; code?: unknown; message?: unknown } | null = null;
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
      const ok = res.status === c.status && json !== null &&
        (json.error?.code === c.code || (c.platform === true && typeof json.message === "string"));
      if (!ok) failures.push(`${c.name}: ${res.status} ${text.slice(0, 200)}`);
    }
    assert.deepEqual(failures, []);
    assert.equal(await rowCount(user.id), 0);
  },
);
