/**
 * The storage part of the RLS matrix, end to end: the same paths and rules as
 * supabase/tests/database/105_rls_matrix_storage.test.sql, but through the Storage API with real keys and tokens
 * (anon key, sb_publishable_ key, user A, user B, service_role key, sb_secret_ key), so what is checked is what a
 * client gets: download, info, sign and list (SELECT), upsert (INSERT … ON CONFLICT UPDATE), remove (DELETE)
 * on existing objects, and upload (INSERT) of new names.
 *
 * Outcomes: ok · hidden (a read answers 400/"404" or the list leaves it out: RLS makes it look absent) ·
 * denied (400/"403" AccessDenied) · none (remove answers [] and the object stays).
 */
import assert from "node:assert/strict";
import { LOCAL_PUBLISHABLE_KEY } from "../../../local/keys.ts";
import { anonKey, sql, stackEnv, stackTest } from "../../support/stack.ts";
import {
  type Actors,
  type Answer,
  BAD_TOKENS,
  bearer,
  createActors,
  jsonOf,
  Recorder,
  secretKeyHeaders,
  serviceHeaders,
} from "./_actors.ts";

const BUCKET = "conversation-files";
const OTHER_BUCKET = "security-e2e-other";

type Actor = "anon" | "publishable" | "user_a" | "user_b" | "service" | "secret_key";
const ACTORS: readonly Actor[] = ["anon", "publishable", "user_a", "user_b", "service", "secret_key"];
const SERVICE_LIKE = new Set<Actor>(["service", "secret_key"]);

type Outcome = "ok" | "hidden" | "denied" | "none";

interface Ids {
  a: string;
  b: string;
  a1: string;
  aGenerating: string;
  b1: string;
}

/** An existing object, and what each actor may do to it: read (download, info, sign, list), upsert, remove. */
interface ExistingTarget {
  name: string;
  bucket: string;
  path: (ids: Ids) => string;
  read: Record<"anon" | "user_a" | "user_b" | "service", Outcome>;
}

/** A new name, and whether each actor may upload to it. */
interface NewTarget {
  name: string;
  bucket: string;
  path: (ids: Ids, fresh: string) => string;
  upload: Record<"anon" | "user_a" | "user_b" | "service", Outcome>;
}

// Mirrors 105: users read raw/{own uid}/… and {own uid}/…; nobody but the service role overwrites or removes.
const EXISTING: readonly ExistingTarget[] = [
  {
    name: "raw/{A}/{A's conversation}.json",
    bucket: BUCKET,
    path: (i) => `raw/${i.a}/${i.a1}.json`,
    read: { anon: "hidden", user_a: "ok", user_b: "hidden", service: "ok" },
  },
  {
    name: "raw/{B}/{B's conversation}.json",
    bucket: BUCKET,
    path: (i) => `raw/${i.b}/${i.b1}.json`,
    read: { anon: "hidden", user_a: "hidden", user_b: "ok", service: "ok" },
  },
  {
    name: "{A}/{A's conversation}/conversation.json",
    bucket: BUCKET,
    path: (i) => `${i.a}/${i.a1}/conversation.json`,
    read: { anon: "hidden", user_a: "ok", user_b: "hidden", service: "ok" },
  },
  {
    name: "{B}/{B's conversation}/conversation.json",
    bucket: BUCKET,
    path: (i) => `${i.b}/${i.b1}/conversation.json`,
    read: { anon: "hidden", user_a: "hidden", user_b: "ok", service: "ok" },
  },
  {
    name: "raw/{A}/nested/….json",
    bucket: BUCKET,
    path: (i) => `raw/${i.a}/nested/${i.a1}.json`,
    read: { anon: "hidden", user_a: "ok", user_b: "hidden", service: "ok" },
  },
  {
    name: "exports/{A}/report.json (other prefix)",
    bucket: BUCKET,
    path: (i) => `exports/${i.a}/report.json`,
    read: { anon: "hidden", user_a: "hidden", user_b: "hidden", service: "ok" },
  },
  {
    name: "{A}.json (bucket root)",
    bucket: BUCKET,
    path: (i) => `${i.a}.json`,
    read: { anon: "hidden", user_a: "hidden", user_b: "hidden", service: "ok" },
  },
  {
    name: "raw/{A}/… in another bucket",
    bucket: OTHER_BUCKET,
    path: (i) => `raw/${i.a}/${i.a1}.json`,
    read: { anon: "hidden", user_a: "hidden", user_b: "hidden", service: "ok" },
  },
];

const NEW: readonly NewTarget[] = [
  {
    name: "raw/{A}/{new id}.json",
    bucket: BUCKET,
    path: (i, f) => `raw/${i.a}/${f}.json`,
    upload: { anon: "denied", user_a: "ok", user_b: "denied", service: "ok" },
  },
  {
    name: "raw/{B}/{new id}.json",
    bucket: BUCKET,
    path: (i, f) => `raw/${i.b}/${f}.json`,
    upload: { anon: "denied", user_a: "denied", user_b: "ok", service: "ok" },
  },
  {
    name: "raw/{A}/{A's conversation being generated}.json",
    bucket: BUCKET,
    path: (i) => `raw/${i.a}/${i.aGenerating}.json`,
    upload: { anon: "denied", user_a: "denied", user_b: "denied", service: "ok" },
  },
  {
    name: "raw/{A}/{B's conversation}.json",
    bucket: BUCKET,
    path: (i) => `raw/${i.a}/${i.b1}.json`,
    upload: { anon: "denied", user_a: "denied", user_b: "denied", service: "ok" },
  },
  {
    name: "raw/{A}/{NEW ID}.json (uppercase)",
    bucket: BUCKET,
    path: (i, f) => `raw/${i.a}/${f.toUpperCase()}.json`,
    upload: { anon: "denied", user_a: "denied", user_b: "denied", service: "ok" },
  },
  {
    name: "raw/{A}/x/{new id}.json (nested)",
    bucket: BUCKET,
    path: (i, f) => `raw/${i.a}/x/${f}.json`,
    upload: { anon: "denied", user_a: "denied", user_b: "denied", service: "ok" },
  },
  {
    name: "{A}/{new id}/conversation.json",
    bucket: BUCKET,
    path: (i, f) => `${i.a}/${f}/conversation.json`,
    upload: { anon: "denied", user_a: "denied", user_b: "denied", service: "ok" },
  },
  {
    name: "exports/{A}/{new}.json (other prefix)",
    bucket: BUCKET,
    path: (i, f) => `exports/${i.a}/${f}.json`,
    upload: { anon: "denied", user_a: "denied", user_b: "denied", service: "ok" },
  },
  {
    name: "raw/{A}/{new id}.json in another bucket",
    bucket: OTHER_BUCKET,
    path: (i, f) => `raw/${i.a}/${f}.json`,
    upload: { anon: "denied", user_a: "denied", user_b: "denied", service: "ok" },
  },
];

function headersOf(actor: Actor, actors: Actors): Record<string, string> {
  switch (actor) {
    case "anon":
      return { ...bearer(anonKey()), apikey: anonKey() };
    case "publishable":
      return { apikey: LOCAL_PUBLISHABLE_KEY };
    case "user_a":
      return { ...bearer(actors.a.token), apikey: anonKey() };
    case "user_b":
      return { ...bearer(actors.b.token), apikey: anonKey() };
    case "service":
      return serviceHeaders();
    case "secret_key":
      return secretKeyHeaders();
  }
}

/** The expectation column an actor reads (the key variants behave as the role they stand for). */
function column(actor: Actor): "anon" | "user_a" | "user_b" | "service" {
  switch (actor) {
    case "publishable":
      return "anon";
    case "secret_key":
      return "service";
    default:
      return actor;
  }
}

function storageCode(a: Answer): string | null {
  const body = jsonOf(a) as { statusCode?: unknown } | null;
  return body && typeof body.statusCode === "string" ? body.statusCode : null;
}

function readOutcome(a: Answer): string {
  if (a.status === 200) return "ok";
  if (a.status === 400 && storageCode(a) === "404") return "hidden";
  return `unexpected ${a.status} ${a.text.slice(0, 120)}`;
}

function writeOutcome(a: Answer): string {
  if (a.status === 200) return "ok";
  if (a.status === 400 && storageCode(a) === "403") return "denied";
  return `unexpected ${a.status} ${a.text.slice(0, 120)}`;
}

const encodePath = (p: string) => p.split("/").map(encodeURIComponent).join("/");
const json = (body: unknown, headers: Record<string, string>) => ({
  method: "POST",
  headers: { ...headers, "content-type": "application/json" },
  body: JSON.stringify(body),
});

async function setUp(rec: Recorder): Promise<{ actors: Actors; ids: Ids; content: Map<string, string> }> {
  const actors = await createActors();
  const ids: Ids = {
    a: actors.a.id,
    b: actors.b.id,
    a1: crypto.randomUUID(),
    aGenerating: crypto.randomUUID(),
    b1: crypto.randomUUID(),
  };
  // Rows first, resolved by hand ('manual'), so the raw uploads below wake no parse (the storage trigger leaves
  // a manually resolved conversation alone); A's second conversation is still being generated.
  await sql()`
    insert into public.conversations (conversation_id, user_id, processing_status, parse_method_used)
    values (${ids.a1}, ${ids.a}, 'completed', 'manual'), (${ids.b1}, ${ids.b}, 'completed', 'manual'),
           (${ids.aGenerating}, ${ids.a}, 'generating', null)`;
  const bucket = await rec.storage(
    "create the other bucket",
    "bucket",
    json({ id: OTHER_BUCKET, name: OTHER_BUCKET, public: false }, serviceHeaders()),
  );
  assert.ok(
    bucket.status === 200 || storageCode(bucket) === "409",
    `create bucket: ${bucket.status} ${bucket.text}`,
  );
  const content = new Map<string, string>();
  for (const t of EXISTING) {
    const path = t.path(ids);
    const body = JSON.stringify({ fixture: t.name, path });
    const up = await rec.storage(`fixture ${t.name}`, `object/${t.bucket}/${encodePath(path)}`, {
      method: "POST",
      headers: { ...serviceHeaders(), "content-type": "application/json" },
      body,
    });
    assert.equal(up.status, 200, `fixture upload ${t.name}: ${up.text}`);
    content.set(t.name, body);
  }
  return { actors, ids, content };
}

stackTest(
  "storage matrix: every actor × every path × download, info, sign, list, upsert and remove through the Storage API",
  async () => {
    const rec = new Recorder();
    const { actors, ids, content } = await setUp(rec);
    const mismatches: string[] = [];
    const check = (actor: Actor, op: string, target: string, got: string, want: Outcome) => {
      if (got !== want) mismatches.push(`${actor} ${op} ${target}: got ${got}, want ${want}`);
    };

    for (const t of EXISTING) {
      const path = t.path(ids);
      const object = `object/${t.bucket}/${encodePath(path)}`;
      const slash = path.lastIndexOf("/");
      const folder = slash === -1 ? "" : path.slice(0, slash);
      const file = path.slice(slash + 1);
      // The service-like actors go last, and the sb_secret_ key's remove is the very last call on the object.
      for (const actor of ACTORS) {
        const h = headersOf(actor, actors);
        const want = t.read[column(actor)];
        const serviceLike = SERVICE_LIKE.has(actor);
        check(
          actor,
          "download",
          t.name,
          readOutcome(await rec.storage(`${actor} download ${t.name}`, object, { headers: h })),
          want,
        );
        check(
          actor,
          "info",
          t.name,
          readOutcome(
            await rec.storage(`${actor} info ${t.name}`, `object/info/${t.bucket}/${encodePath(path)}`, {
              headers: h,
            }),
          ),
          want,
        );
        check(
          actor,
          "sign",
          t.name,
          readOutcome(
            await rec.storage(
              `${actor} sign ${t.name}`,
              `object/sign/${t.bucket}/${encodePath(path)}`,
              json({ expiresIn: 60 }, h),
            ),
          ),
          want,
        );
        const listed = await rec.storage(
          `${actor} list ${t.name}`,
          `object/list/${t.bucket}`,
          json({ prefix: folder, search: file, limit: 100 }, h),
        );
        const names = Array.isArray(jsonOf(listed))
          ? (jsonOf(listed) as { name?: unknown }[]).map((e) => e.name)
          : null;
        check(
          actor,
          "list",
          t.name,
          names === null ? `unexpected ${listed.status}` : names.includes(file) ? "ok" : "hidden",
          want,
        );

        const upsert = await rec.storage(`${actor} upsert ${t.name}`, object, {
          method: "POST",
          headers: { ...h, "content-type": "application/json", "x-upsert": "true" },
          body: serviceLike ? content.get(t.name) : JSON.stringify({ overwritten_by: actor }),
        });
        check(actor, "upsert", t.name, writeOutcome(upsert), serviceLike ? "ok" : "denied");
        if (actor === "service") continue; // the sb_secret_ key removes it once, below
        const removed = await rec.storage(`${actor} remove ${t.name}`, `object/${t.bucket}`, {
          method: "DELETE",
          headers: { ...h, "content-type": "application/json" },
          body: JSON.stringify({ prefixes: [path] }),
        });
        const rows = jsonOf(removed);
        check(
          actor,
          "remove",
          t.name,
          removed.status !== 200 || !Array.isArray(rows)
            ? `unexpected ${removed.status}`
            : rows.length === 1
            ? "ok"
            : "none",
          serviceLike ? "ok" : "none",
        );
        if (!serviceLike) {
          // Whatever the user tried, the object is still there with the service's bytes.
          const still = await rec.storage(`service re-read ${t.name}`, object, { headers: serviceHeaders() });
          if (still.status !== 200 || still.text !== content.get(t.name)) {
            mismatches.push(`${actor} changed ${t.name}: ${still.status} ${still.text.slice(0, 80)}`);
          }
        }
      }
    }

    for (const t of NEW) {
      for (const actor of ACTORS) {
        const path = t.path(ids, crypto.randomUUID());
        const up = await rec.storage(`${actor} upload ${t.name}`, `object/${t.bucket}/${encodePath(path)}`, {
          method: "POST",
          headers: { ...headersOf(actor, actors), "content-type": "application/json" },
          body: JSON.stringify({ uploaded_by: actor }),
        });
        // The second service-like upload to a fixed path (B's conversation, the one being generated) is a duplicate.
        const got = writeOutcome(up);
        const duplicate = up.status === 400 && storageCode(up) === "409";
        check(
          actor,
          "upload",
          t.name,
          duplicate && actor === "secret_key" ? "ok" : got,
          t.upload[column(actor)],
        );
      }
    }

    assert.deepEqual(mismatches, []);
    assert.deepEqual(rec.leaks(), [], "no answer carries a secret");
    // A's upload under raw/{A}/ started a conversation of A's own, never anyone else's (the trigger reads the path).
    const owners = await sql()<{ user_id: string }[]>`
    select distinct user_id::text from public.conversations
     where conversation_id in (select (regexp_match(name, '^raw/[^/]+/([0-9a-f-]{36})\\.json$'))[1]::uuid
                                 from storage.objects
                                where bucket_id = ${BUCKET} and owner_id = ${ids.a} and name like ${`raw/${ids.a}/%`})`;
    assert.deepEqual(owners.map((o) => o.user_id), [ids.a]);
  },
);

stackTest("storage: no bad credential reads or writes a user's object", async () => {
  const rec = new Recorder();
  const { actors, ids } = await setUp(rec);
  const object = `object/${BUCKET}/raw/${ids.a}/${ids.a1}.json`;
  const failures: string[] = [];
  for (const bad of BAD_TOKENS) {
    const h = await bad.headers(actors.a);
    const read = await rec.storage(`${bad.name} download`, object, { headers: h });
    if (read.status === 200) failures.push(`${bad.name} downloaded A's raw response`);
    const write = await rec.storage(
      `${bad.name} upload`,
      `object/${BUCKET}/raw/${ids.a}/${crypto.randomUUID()}.json`,
      {
        method: "POST",
        headers: { ...h, "content-type": "application/json" },
        body: "{}",
      },
    );
    if (write.status === 200) failures.push(`${bad.name} uploaded under raw/{A}/`);
    if (write.status !== 400 || !["400", "403"].includes(storageCode(write) ?? "")) {
      failures.push(`${bad.name} upload: ${write.status} ${write.text.slice(0, 100)}`);
    }
  }
  assert.deepEqual(failures, []);
  assert.deepEqual(rec.leaks(), []);
});

stackTest("storage: a signed URL opens its own object only, and only until it expires", async () => {
  const rec = new Recorder();
  const { actors, ids } = await setUp(rec);
  const sign = async (path: string, expiresIn: number) => {
    const res = await rec.storage(
      "sign",
      `object/sign/${BUCKET}/${path}`,
      json({ expiresIn }, bearer(actors.a.token)),
    );
    assert.equal(res.status, 200, res.text);
    return (jsonOf(res) as { signedURL: string }).signedURL;
  };
  const base = `${stackEnv().SUPABASE_URL}/storage/v1`;
  const mine = await sign(`raw/${ids.a}/${ids.a1}.json`, 60);
  const opened = await rec.fetch("open signed URL", `${base}${mine}`);
  assert.equal(opened.status, 200, "the link opens A's raw response without any other credential");
  // The token is bound to its path: the same token on B's raw response opens nothing.
  const swapped = mine.replace(`raw/${ids.a}/${ids.a1}.json`, `raw/${ids.b}/${ids.b1}.json`);
  assert.notEqual((await rec.fetch("swapped signed URL", `${base}${swapped}`)).status, 200);
  const short = await sign(`raw/${ids.a}/${ids.a1}.json`, 1);
  await new Promise((r) => setTimeout(r, 2100));
  assert.notEqual(
    (await rec.fetch("expired signed URL", `${base}${short}`)).status,
    200,
    "an expired link is dead",
  );
  // B cannot mint a link to A's object in the first place.
  const bSigns = await rec.storage(
    "B signs A's",
    `object/sign/${BUCKET}/raw/${ids.a}/${ids.a1}.json`,
    json({ expiresIn: 60 }, bearer(actors.b.token)),
  );
  assert.equal(readOutcome(bSigns), "hidden");
  assert.deepEqual(rec.leaks(), []);
});
