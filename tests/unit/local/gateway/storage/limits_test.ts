import assert from "node:assert/strict";
import {
  isAllowedMimeType,
  isValidBucketName,
  isValidKey,
  parseSize,
} from "../../../../../local/gateway/storage/limits.ts";

Deno.test("isValidKey() follows storage-api's key regex", () => {
  for (const ok of ["raw/u/c.json", "a b/c(d)!*'&$=@;:+,?-_.txt"]) assert.ok(isValidKey(ok), ok);
  for (const bad of ["", "é.json", "a#b", "a%b", "a\\b", "a\nb", "emoji-😀"]) {
    assert.ok(!isValidKey(bad), bad);
  }
});

Deno.test("isValidBucketName() refuses slashes and names over 100 characters", () => {
  assert.ok(isValidBucketName("conversation-files"));
  assert.ok(!isValidBucketName("a/b"));
  assert.ok(!isValidBucketName("x".repeat(101)));
});

Deno.test("isAllowedMimeType() compares type/subtype literally, with type/* wildcards", () => {
  assert.ok(isAllowedMimeType("application/json", ["application/json"]));
  assert.ok(isAllowedMimeType("image/png", ["image/*"]));
  assert.ok(!isAllowedMimeType("text/plain", ["application/json"]));
  assert.ok(!isAllowedMimeType("json", ["application/json"]));
  // storage-api does not strip parameters: storage-js's default content type is refused by a text/plain list.
  assert.ok(!isAllowedMimeType("text/plain;charset=UTF-8", ["text/plain"]));
});

Deno.test("parseSize() reads the CLI's units", () => {
  assert.equal(parseSize("50MiB"), 50 * 1024 * 1024);
  assert.equal(parseSize("5MB"), 5_000_000);
  assert.equal(parseSize("500KB"), 500_000);
  assert.equal(parseSize(1024), 1024);
  assert.equal(parseSize("lots"), null);
});
