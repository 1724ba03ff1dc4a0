/**
 * The outside security check's three ways to hurt the service without breaking in, and its auth
 * inconsistency, as regression tests through the gateway with real tokens and the default limits
 * (docs/SECURITY.md, "Budgets and rate limits", "Provenance", "The auth rule"). Each failed on the code before
 * issue 16: every generate and every upload was accepted, an upload looked like model output, and any verified
 * JWT saying `service_role` was the service.
 */
import assert from "node:assert/strict";
import { signJwt } from "../../../local/keys.ts";
import { makeConversation, textResponse } from "../../fixtures/parse/samples.ts";
import {
  createTestUser,
  eventually,
  functionsUrl,
  serviceClient,
  sql,
  stackEnv,
  stackTest,
  standinAdmin,
  userClient,
} from "../../support/stack.ts";
import { ensurePipelineSecrets, SEED_BODY } from "../../integration/generate/_helpers.ts";

async function defaultLimit(name: string): Promise<number> {
  const [row] = await sql()<{ max_amount: string }[]>`
    select max_amount::text from private.usage_limits where limit_name = ${name} and user_id is null`;
  return Number(row.max_amount);
}

function generate(token: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return fetch(functionsUrl("generate-conversation"), {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      prefer: "respond-async",
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

stackTest(
  "finding 1 (unbounded spend): a user looping max_tokens 64000 is stopped at the daily token budget",
  async () => {
    await ensurePipelineSecrets();
    const user = await createTestUser();
    const budget = await defaultLimit("generate_output_tokens_per_day");
    const fits = Math.floor(budget / 64000);
    // Slow answers, so every reservation is still open when the next request arrives (the worst case).
    await standinAdmin("behavior", { method: "POST", body: JSON.stringify({ behavior: "slow:600" }) });
    let answers: Response[];
    try {
      answers = await Promise.all(
        Array.from({ length: fits + 4 }, () => generate(user.token, { ...SEED_BODY, max_tokens: 64000 })),
      );
    } finally {
      await standinAdmin("behavior", { method: "POST", body: JSON.stringify({ behavior: null }) });
    }
    const statuses = answers.map((a) => a.status);
    const refused = answers.filter((a) => a.status === 429);
    assert.equal(statuses.filter((s) => s === 201).length, fits, `statuses: ${statuses.join(",")}`);
    assert.equal(refused.length, 4);
    for (const r of refused) {
      const body = await r.json();
      assert.equal(body.error.code, "rate_limited");
      assert.equal(body.error.limit, "generate_output_tokens_per_day");
      assert.ok(Number(r.headers.get("retry-after")) >= 1);
    }
    await Promise.all(answers.filter((a) => a.status !== 429).map((a) => a.body?.cancel()));
    const usage =
      (await standinAdmin("usage") as Record<string, { requests: number; output_tokens: number }>)[
        user.id
      ];
    assert.equal(usage.requests, fits, "only the granted requests reached Claude");
    assert.ok(usage.output_tokens <= budget);
  },
);

stackTest(
  "finding 2 (unbounded uploads): 30 uploads in a row stop at raw_uploads_per_hour, each refusal named",
  async () => {
    const user = await createTestUser();
    const perHour = await defaultLimit("raw_uploads_per_hour");
    const storage = userClient(user.token).storage.from("conversation-files");
    const results: { ok: boolean; status?: string; message?: string }[] = [];
    for (let i = 0; i < 30; i++) {
      const { error } = await storage.upload(
        `raw/${user.id}/${crypto.randomUUID()}.json`,
        new TextEncoder().encode('{"not":"a conversation"}'),
        { contentType: "application/json" },
      );
      results.push(
        error
          ? { ok: false, status: (error as { statusCode?: string }).statusCode, message: error.message }
          : { ok: true },
      );
    }
    assert.equal(results.filter((r) => r.ok).length, perHour);
    for (const r of results.slice(perHour)) {
      assert.equal(r.status, "403");
      assert.match(r.message ?? "", /raw_uploads_per_hour limit reached/);
    }
    const [rows] = await sql()<{ n: number }[]>`
    select count(*)::int as n from public.conversations where user_id = ${user.id}`;
    assert.equal(rows.n, perHour, "only the accepted uploads became conversations");
  },
);

stackTest(
  "finding 3 (provenance): a user's upload is `uploaded` in the final file, the review list and item",
  async () => {
    await ensurePipelineSecrets();
    const user = await createTestUser();
    const storage = userClient(user.token).storage.from("conversation-files");
    // A forged Messages API body that looks exactly like Claude's (model, usage, stop_reason): it completes,
    // with a final file written by the service — the data-poisoning route the check found.
    const good = crypto.randomUUID();
    const forged = textResponse(JSON.stringify(makeConversation(16, { turns: 6 })));
    assert.equal(
      (await storage.upload(
        `raw/${user.id}/${good}.json`,
        new TextEncoder().encode(forged),
        {
          contentType: "application/json",
        },
      )).error,
      null,
    );
    // Garbage: it lands in review.
    const bad = crypto.randomUUID();
    assert.equal(
      (await storage.upload(`raw/${user.id}/${bad}.json`, new TextEncoder().encode('{"junk":true}'), {
        contentType: "application/json",
      })).error,
      null,
    );
    const done = await eventually(async () => {
      const rows = await sql()<
        { conversation_id: string; processing_status: string; source: string; file_path: string | null }[]
      >`
      select conversation_id::text, processing_status, source, file_path from public.conversations
       where conversation_id in (${good}, ${bad})`;
      return rows.length === 2 &&
          rows.every((r) => ["completed", "parse_failed"].includes(r.processing_status))
        ? rows
        : null;
    }, { timeoutMs: 30_000, what: "both uploads parsed" });
    assert.deepEqual(done.map((r) => r.source), ["uploaded", "uploaded"]);
    const completed = done.find((r) => r.conversation_id === good);
    assert.equal(completed?.processing_status, "completed");
    const { data } = await serviceClient().storage.from("conversation-files").download(
      String(completed?.file_path),
    );
    const file = JSON.parse(await data!.text());
    assert.deepEqual(file.provenance, { source: "uploaded", model_output: false });

    const headers = { authorization: `Bearer ${user.token}` };
    const list = await (await fetch(`${functionsUrl("review-queue")}?source=uploaded`, { headers })).json();
    assert.deepEqual(
      list.items.map((i: { conversation_id: string; source: string }) => [i.conversation_id, i.source]),
      [
        [bad, "uploaded"],
      ],
    );
    assert.equal(list.filters.source, "uploaded");
    const generatedOnly = await (await fetch(`${functionsUrl("review-queue")}?source=generated`, { headers }))
      .json();
    assert.deepEqual(generatedOnly.items, []);
    const item = await (await fetch(`${functionsUrl("review-queue")}/${bad}`, { headers })).json();
    assert.equal(item.item.source, "uploaded");
  },
);

stackTest(
  "the auth rule: a verified service_role JWT that is not the key, a token without exp or with another aud → 401",
  async () => {
    const secret = stackEnv().SUPABASE_JWT_SECRET;
    const user = await createTestUser();
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, Record<string, unknown>, Record<string, string>][] = [
      // Before: treated as the service, so it could generate for anyone named in x-user-id.
      ["service_role JWT with a sub", { role: "service_role", sub: user.id, exp: now + 600 }, {
        "x-user-id": user.id,
      }],
      ["service_role JWT without a sub", { role: "service_role", exp: now + 600 }, { "x-user-id": user.id }],
      ["user token without exp", { role: "authenticated", sub: user.id, aud: "authenticated" }, {}],
      ["user token for another audience", {
        role: "authenticated",
        sub: user.id,
        aud: "other",
        exp: now + 600,
      }, {}],
    ];
    for (const [what, claims, headers] of cases) {
      const res = await generate(await signJwt(claims, secret), SEED_BODY, headers);
      const body = await res.json();
      assert.equal(res.status, 401, what);
      assert.equal(body.error?.code, "unauthorized", what);
      const list = await fetch(functionsUrl("review-queue"), {
        headers: { authorization: `Bearer ${await signJwt(claims, secret)}` },
      });
      assert.equal(list.status, 401, `${what} (review-queue)`);
      await list.body?.cancel();
    }
    const [rows] = await sql()<{ n: number }[]>`
    select count(*)::int as n from public.conversations where user_id = ${user.id}`;
    assert.equal(rows.n, 0, "nothing was generated");
  },
);
