/**
 * Cross-user access through the functions, with real tokens: what user A can do to user B's data through
 * generate-conversation and review-queue (nothing: B's item answers exactly like one that does not exist), what
 * A cannot claim (another user's id in x-user-id or reviewed_by, the service role's retry-all, the internal
 * functions), and what the review detail's raw-response link grants (A's own object, for a short time).
 */
import assert from "node:assert/strict";
import { sql, stackEnv, stackTest } from "../../support/stack.ts";
import {
  type Actors,
  type Answer,
  bearer,
  createActors,
  jsonOf,
  Recorder,
  serviceHeaders,
} from "./_actors.ts";

const SEED_BODY = {
  persona_id: "10000000-0000-4000-8000-000000000002",
  emotional_arc_id: "20000000-0000-4000-8000-000000000001",
  training_topic_id: "30000000-0000-4000-8000-000000000001",
  tier: "template",
};

interface World {
  actors: Actors;
  itemA: string;
  itemB: string;
}

/**
 * One review item each (parse_failed, in review) with its raw object in Storage. The row is created resolved
 * ('manual') so the upload wakes no parse (the storage trigger leaves such rows alone), then put in review.
 */
async function setUp(rec: Recorder): Promise<World> {
  const actors = await createActors();
  const itemA = crypto.randomUUID();
  const itemB = crypto.randomUUID();
  for (const [user, item] of [[actors.a.id, itemA], [actors.b.id, itemB]]) {
    const path = `raw/${user}/${item}.json`;
    await sql()`
      insert into public.conversations (conversation_id, user_id, processing_status, parse_method_used)
      values (${item}, ${user}, 'completed', 'manual')`;
    const up = await rec.storage(`fixture ${path}`, `object/conversation-files/${path}`, {
      method: "POST",
      headers: { ...serviceHeaders(), "content-type": "application/json" },
      body: JSON.stringify({
        type: "message",
        content: [{ type: "text", text: `not a conversation ${item}` }],
      }),
    });
    assert.equal(up.status, 200, up.text);
    await sql()`
      update public.conversations
         set processing_status = 'parse_failed', requires_manual_review = true, parse_method_used = null,
             raw_response_path = ${path}, parse_attempts = 1, parse_error_message = 'no_json: security fixture'
       where conversation_id = ${item}`;
  }
  return { actors, itemA, itemB };
}

async function rowOf(id: string): Promise<string> {
  const [row] = await sql()<{ v: string }[]>`
    select row_to_json(c)::text as v from public.conversations c where conversation_id = ${id}`;
  return row?.v ?? "missing";
}

function errorCode(a: Answer): string | null {
  const body = jsonOf(a) as { error?: { code?: unknown } } | null;
  return typeof body?.error?.code === "string" ? body.error.code : null;
}

function post(headers: Record<string, string>, body: unknown): RequestInit {
  return {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}

stackTest(
  "access: user A cannot see, retry, resolve or dismiss user B's review item — it answers like a missing one",
  async () => {
    const rec = new Recorder();
    const { actors, itemA, itemB } = await setUp(rec);
    const a = bearer(actors.a.token);
    const before = await rowOf(itemB);

    const list = await rec.fn("A lists", "review-queue", "", { headers: a });
    assert.equal(list.status, 200, list.text);
    const ids = (jsonOf(list) as { items: { conversation_id: string }[] }).items.map((i) =>
      i.conversation_id
    );
    assert.ok(ids.includes(itemA), "A sees A's own item");
    assert.ok(!ids.includes(itemB), "A's list never includes B's item");
    assert.ok(!list.text.includes(actors.b.id), "nor B's user id anywhere");

    const missing = crypto.randomUUID();
    const attempts: [string, string, RequestInit][] = [
      ["get", "", { headers: a }],
      ["retry", "/retry", post(a, {})],
      ["resolve", "/resolve", post(a, { conversation: { conversation_metadata: {}, turns: [] } })],
      ["dismiss", "/dismiss", post(a, { reason: "not mine" })],
    ];
    for (const [what, suffix, init] of attempts) {
      const other = await rec.fn(`A ${what} B's item`, "review-queue", `/${itemB}${suffix}`, init);
      const none = await rec.fn(`A ${what} a missing item`, "review-queue", `/${missing}${suffix}`, init);
      if (what === "resolve") {
        // The body is checked first (a bad conversation is a 400 whatever the id): same answer for both ids.
        assert.equal(other.status, none.status, `resolve: ${other.text}`);
        continue;
      }
      assert.equal(other.status, 404, `${what}: ${other.text}`);
      assert.equal(errorCode(other), "not_found");
      assert.equal(
        other.text.replace(itemB, "<id>"),
        none.text.replace(missing, "<id>"),
        `${what}: B's item and a missing one get the same answer`,
      );
    }
    const resolveBody = {
      conversation: {
        conversation_metadata: { client_persona: "x", session_context: "x", conversation_phase: "x" },
        turns: [
          {
            turn_number: 1,
            role: "user",
            content: "a",
            emotional_context: { primary_emotion: "a", intensity: 0.1 },
          },
          {
            turn_number: 2,
            role: "assistant",
            content: "b",
            emotional_context: { primary_emotion: "a", intensity: 0.1 },
          },
        ],
      },
    };
    const resolved = await rec.fn(
      "A resolves B's item",
      "review-queue",
      `/${itemB}/resolve`,
      post(a, resolveBody),
    );
    assert.equal(resolved.status, 404, resolved.text);
    assert.equal(await rowOf(itemB), before, "B's row is exactly as it was");

    const service = await rec.fn("service reads B's item", "review-queue", `/${itemB}`, {
      headers: serviceHeaders(),
    });
    assert.equal(service.status, 200, "the service role reaches every item");
    assert.deepEqual(rec.leaks(), []);
  },
);

stackTest(
  "access: A cannot act as someone else — x-user-id, user_id, reviewed_by, retry-all, internal functions",
  async () => {
    const rec = new Recorder();
    const { actors, itemA } = await setUp(rec);
    const a = bearer(actors.a.token);
    const countB = async () =>
      (await sql()<
        { n: number }[]
      >`select count(*)::int as n from public.conversations where user_id = ${actors.b.id}`)[0].n;
    const bBefore = await countB();

    const forged = await rec.fn(
      "A generates for B",
      "generate-conversation",
      "",
      post({ ...a, "x-user-id": actors.b.id }, SEED_BODY),
    );
    assert.equal(forged.status, 403, forged.text);
    assert.equal(errorCode(forged), "forbidden");
    assert.equal(await countB(), bBefore, "no conversation was started for B");

    const listB = await rec.fn("A lists B's", "review-queue", `?user_id=${actors.b.id}`, { headers: a });
    assert.equal(listB.status, 403, listB.text);

    const asOther = await rec.fn(
      "A dismisses as B",
      "review-queue",
      `/${itemA}/dismiss`,
      post(a, { reason: "x", reviewed_by: actors.b.id }),
    );
    assert.equal(asOther.status, 403, asOther.text);

    const retryAll = await rec.fn(
      "A runs retry-all",
      "review-queue",
      "/retry-all",
      post(a, { dry_run: true }),
    );
    assert.equal(retryAll.status, 403, retryAll.text);

    for (
      const fn of [
        "parse-conversation",
        "storage-health-monitor",
        "raw-retention",
        "export-dataset",
        "collect-batches",
      ]
    ) {
      const res = await rec.fn(
        `A calls ${fn}`,
        fn,
        "",
        post(a, fn === "parse-conversation" ? { conversation_id: itemA } : {}),
      );
      assert.equal(res.status, 403, `${fn}: ${res.text}`);
      assert.equal(errorCode(res), "forbidden");
    }
    const ghost = await rec.fn(
      "service generates for a user that does not exist",
      "generate-conversation",
      "",
      post({ ...serviceHeaders(), "x-user-id": crypto.randomUUID() }, SEED_BODY),
    );
    assert.equal(ghost.status, 404, ghost.text);
    assert.deepEqual(rec.leaks(), []);
  },
);

stackTest(
  "access: the review detail's raw link opens A's raw response, is not B's to open, and is short-lived",
  async () => {
    const rec = new Recorder();
    const { actors, itemA, itemB } = await setUp(rec);
    const detail = await rec.fn("A reads A's item", "review-queue", `/${itemA}`, {
      headers: bearer(actors.a.token),
    });
    assert.equal(detail.status, 200, detail.text);
    const raw =
      (jsonOf(detail) as { raw: { available: boolean; signed_url: string; expires_in: number } }).raw;
    assert.equal(raw.available, true);
    assert.ok(raw.expires_in <= 3600, "the link lives minutes, not days");
    const url = new URL(raw.signed_url, stackEnv().SUPABASE_URL);
    assert.ok(url.searchParams.get("token"), "the link carries its own token, not a key");

    const opened = await rec.fetch("open A's raw link", url.toString());
    assert.equal(opened.status, 200);
    assert.ok(opened.text.includes(itemA), "it is A's raw response");

    // The same token on B's path opens nothing.
    const bPath = `raw/${actors.b.id}/${itemB}.json`;
    const swapped = new URL(url);
    swapped.pathname = url.pathname.replace(/raw\/[^?]+$/, bPath);
    const other = await rec.fetch("A's token on B's raw path", swapped.toString());
    assert.notEqual(other.status, 200);

    // B asking for A's item gets no link at all.
    const bAsks = await rec.fn("B reads A's item", "review-queue", `/${itemA}`, {
      headers: bearer(actors.b.token),
    });
    assert.equal(bAsks.status, 404);
    assert.ok(!bAsks.text.includes("token="), "no signed link in the refusal");
    assert.deepEqual(rec.leaks(), []);
  },
);
