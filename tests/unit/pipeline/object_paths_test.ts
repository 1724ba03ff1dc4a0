import assert from "node:assert/strict";
import { finalObjectPath, rawObjectPath } from "../../../shared/pipeline/object_paths.ts";

const USER = "11111111-1111-4111-8111-111111111111";
const CONV = "22222222-2222-4222-8222-222222222222";

Deno.test("rawObjectPath() puts the raw response under raw/<user>/ (the storage trigger reads it back)", () => {
  assert.equal(rawObjectPath(USER, CONV), `raw/${USER}/${CONV}.json`);
});

Deno.test("finalObjectPath() starts with the owner's id, so the owner's Storage policy covers it", () => {
  assert.equal(finalObjectPath(USER, CONV), `${USER}/${CONV}/conversation.json`);
  assert.notEqual(finalObjectPath(USER, CONV), rawObjectPath(USER, CONV));
});
