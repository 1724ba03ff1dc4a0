/**
 * Which process-level errors healingSql() swallows: only the two postgres.js socket defects it documents, never
 * anything else (an unrelated error must still end the process).
 */
import assert from "node:assert/strict";
import {
  isPostgresJsClosedSocketWrite,
  isUnawaitedSocketFailure,
} from "../../../shared/adapters/postgres_healing_sql.ts";

Deno.test("isUnawaitedSocketFailure() matches a read ECONNRESET and a connect ECONNREFUSED only", () => {
  const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET", syscall: "read" });
  assert.equal(isUnawaitedSocketFailure(reset), true);
  const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:54322"), {
    code: "ECONNREFUSED",
    syscall: "connect",
  });
  assert.equal(isUnawaitedSocketFailure(refused), true);
  assert.equal(isUnawaitedSocketFailure(Object.assign(new Error("x"), { code: "ECONNREFUSED" })), false);
  assert.equal(
    isUnawaitedSocketFailure(Object.assign(new Error("write EPIPE"), { code: "EPIPE", syscall: "write" })),
    false,
  );
  assert.equal(isUnawaitedSocketFailure(Object.assign(new Error("x"), { code: "ECONNRESET" })), false);
  assert.equal(isUnawaitedSocketFailure({ code: "ECONNRESET", syscall: "read" }), false, "not an Error");
  assert.equal(isUnawaitedSocketFailure(null), false);
});

Deno.test("isPostgresJsClosedSocketWrite() still matches only postgres.js's closed-socket TypeError", () => {
  const err = new TypeError("Cannot read properties of null (reading 'write')");
  err.stack = "TypeError: …\n    at nextWrite (file:///x/node_modules/postgres/src/connection.js:1:1)";
  assert.equal(isPostgresJsClosedSocketWrite(err), true);
  assert.equal(
    isPostgresJsClosedSocketWrite(new TypeError("Cannot read properties of null (reading 'write')")),
    false,
  );
});
