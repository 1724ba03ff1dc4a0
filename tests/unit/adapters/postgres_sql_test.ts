import assert from "node:assert/strict";
import {
  createSql,
  isTransientDbError,
  type Sql,
  translateDbError,
  translatePostgresFailure,
  translatingPostgresFailures,
} from "../../../shared/adapters/postgres_sql.ts";
import { AppError } from "../../../shared/errors.ts";
import { postgresConversationRepo } from "../../../shared/adapters/postgres_conversation_repo.ts";
import { postgresParseQueue } from "../../../shared/adapters/postgres_parse_queue.ts";
import { postgresReviewRepo } from "../../../shared/adapters/postgres_review_repo.ts";
import { postgresUsageLimiter } from "../../../shared/adapters/postgres_usage_limiter.ts";
import { InfraFailure } from "../../../shared/pipeline/failures.ts";

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

const transient: ReadonlyArray<[string, string]> = [
  ["a refused connection", "ECONNREFUSED"],
  ["a reset connection", "ECONNRESET"],
  ["postgres.js's closed connection", "CONNECTION_CLOSED"],
  ["admin shutdown (57P01)", "57P01"],
  ["a statement timeout (57014)", "57014"],
  ["a serialization failure (40001)", "40001"],
  ["too many connections (53300)", "53300"],
];

for (const [name, code] of transient) {
  Deno.test(`translatePostgresFailure() turns ${name} into InfraFailure database_unavailable`, () => {
    const cause = withCode(`driver says ${code}`, code);
    assert.equal(isTransientDbError(cause), true);
    const out = translatePostgresFailure(cause);
    assert.ok(out instanceof InfraFailure);
    assert.equal(out.code, "database_unavailable");
    assert.equal(out.message, `driver says ${code}`, "the driver's message is kept for the attempts log");
    assert.equal(out.cause, cause);
  });
}

Deno.test("translatePostgresFailure() leaves a rule the database enforced and a bug as they are", () => {
  for (
    const err of [withCode("duplicate key", "23505"), withCode("bad uuid", "22P02"), new TypeError("bug")]
  ) {
    assert.equal(translatePostgresFailure(err), err);
  }
  const already = new InfraFailure("database_unavailable", "x");
  assert.equal(translatePostgresFailure(already), already);
});

Deno.test("translatingPostgresFailures() translates what every method throws and passes results through", async () => {
  const adapter = translatingPostgresFailures({
    ok: (n: number) => Promise.resolve(n + 1),
    down: (): Promise<number> => Promise.reject(withCode("gone", "08006")),
    bug: (): Promise<number> => Promise.reject(new RangeError("bug")),
  });
  assert.equal(await adapter.ok(1), 2);
  await assert.rejects(adapter.down(), (e) => e instanceof InfraFailure && e.code === "database_unavailable");
  await assert.rejects(adapter.bug(), RangeError);
});

Deno.test("translatingPostgresFailures() with rules maps a rule the database enforced to the client's error first", async () => {
  const adapter = translatingPostgresFailures({
    duplicate: (): Promise<number> => Promise.reject(withCode("duplicate key", "23505")),
    missingRef: (): Promise<number> => Promise.reject(withCode("violates foreign key", "23503")),
    down: (): Promise<number> => Promise.reject(withCode("gone", "08006")),
    bug: (): Promise<number> => Promise.reject(new RangeError("bug")),
  }, translateDbError);
  await assert.rejects(adapter.duplicate(), (e) => e instanceof AppError && e.code === "conflict");
  await assert.rejects(adapter.missingRef(), (e) => e instanceof AppError && e.code === "not_found");
  await assert.rejects(adapter.down(), (e) => e instanceof InfraFailure && e.code === "database_unavailable");
  await assert.rejects(adapter.bug(), RangeError);
});

// Port 1 on loopback: nothing listens, the connection is refused at once (a real driver failure).
const UNREACHABLE = "postgres://postgres@127.0.0.1:1/postgres";

const adapters: ReadonlyArray<[string, (sql: Sql) => Promise<unknown>]> = [
  [
    "postgresConversationRepo().readState",
    (sql) => postgresConversationRepo(sql).readState(crypto.randomUUID()),
  ],
  ["postgresParseQueue().claim", (sql) => postgresParseQueue(sql).claim(crypto.randomUUID(), new Date())],
  [
    "postgresReviewRepo().requeue",
    (sql) => postgresReviewRepo(sql).requeue({ userId: null }, crypto.randomUUID(), new Date()),
  ],
  [
    "postgresUsageLimiter().reserveGeneration",
    (sql) =>
      postgresUsageLimiter(sql).reserveGeneration({
        userId: crypto.randomUUID(),
        maxTokens: 1,
        isService: false,
      }),
  ],
];

for (const [name, call] of adapters) {
  Deno.test(`${name}() over an unreachable database rejects with the domain's InfraFailure`, async () => {
    const sql = createSql(UNREACHABLE, { max: 1 });
    try {
      await assert.rejects(
        call(sql),
        (e) => e instanceof InfraFailure && e.code === "database_unavailable",
      );
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
}
