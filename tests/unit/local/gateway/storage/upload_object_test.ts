/**
 * The local Storage upload's cleanup after a failed row write (local/gateway/storage/routes/object/
 * _upload_object.ts): the new version's file goes only when the row is known not to name it — a commit whose
 * reply was lost in a PostgreSQL crash may have landed.
 */
import assert from "node:assert/strict";
import { discardUncommittedVersion } from "../../../../../local/gateway/storage/routes/object/_upload_object.ts";
import type { StorageContext } from "../../../../../local/gateway/storage/context.ts";

function rig(answer: "named" | "not_named" | "down") {
  const removed: string[] = [];
  const sql =
    (() =>
      answer === "down"
        ? Promise.reject(new Error("connect ECONNREFUSED"))
        : Promise.resolve(answer === "named" ? [{ "?column?": 1 }] : [])) as unknown as StorageContext["sql"];
  const disk = {
    remove: (bucket: string, name: string, version: string) => {
      removed.push(`${bucket}/${name}/${version}`);
      return Promise.resolve();
    },
  } as unknown as StorageContext["disk"];
  return { ctx: { sql, disk }, removed };
}

Deno.test("discardUncommittedVersion() removes the file when the row does not name the new version", async () => {
  const { ctx, removed } = rig("not_named");
  assert.equal(await discardUncommittedVersion(ctx, "b", "raw/x.json", "v2"), "removed");
  assert.deepEqual(removed, ["b/raw/x.json/v2"]);
});

Deno.test("discardUncommittedVersion() keeps the file when the row committed after all", async () => {
  const { ctx, removed } = rig("named");
  assert.equal(await discardUncommittedVersion(ctx, "b", "raw/x.json", "v2"), "kept_committed");
  assert.deepEqual(removed, []);
});

Deno.test("discardUncommittedVersion() keeps the file while the database cannot say", async () => {
  const { ctx, removed } = rig("down");
  assert.equal(await discardUncommittedVersion(ctx, "b", "raw/x.json", "v2"), "kept_unknown");
  assert.deepEqual(removed, []);
});
