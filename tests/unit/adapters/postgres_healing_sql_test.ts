/**
 * Which process-level errors healingSql() swallows: only the two postgres.js socket defects it documents, never
 * anything else (an unrelated error must still end the process).
 */
import assert from "node:assert/strict";
import {
  isPostgresJsClosedSocketWrite,
  isUnawaitedSocketReset,
} from "../../../shared/adapters/postgres_healing_sql.ts";

Deno.test("isUnawaitedSocketReset() matches a read ECONNRESET only", () => {
  const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET", syscall: "read" });
  assert.equal(isUnawaitedSocketReset(reset), true);
  assert.equal(
    isUnawaitedSocketReset(Object.assign(new Error("write EPIPE"), { code: "EPIPE", syscall: "write" })),
    false,
  );
  assert.equal(isUnawaitedSocketReset(Object.assign(new Error("x"), { code: "ECONNRESET" })), false);
  assert.equal(isUnawaitedSocketReset({ code: "ECONNRESET", syscall: "read" }), false, "not an Error");
  assert.equal(isUnawaitedSocketReset(null), false);
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
