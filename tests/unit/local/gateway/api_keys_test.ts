import assert from "node:assert/strict";
import { translateApiKey } from "../../../../local/gateway/api_keys.ts";

const keys = {
  anonKey: "anon-jwt",
  serviceRoleKey: "service-jwt",
  publishableKey: "sb_publishable_p",
  secretKey: "sb_secret_s",
};

function auth(headers: Record<string, string>): string | null {
  return translateApiKey(new Request("http://x/", { headers }), keys).headers.get("authorization");
}

Deno.test("translateApiKey() swaps sb_ keys for the matching JWT, like the CLI's Kong", () => {
  assert.equal(auth({ apikey: "sb_secret_s" }), "Bearer service-jwt");
  assert.equal(auth({ apikey: "sb_publishable_p" }), "Bearer anon-jwt");
  assert.equal(auth({ authorization: "Bearer sb_secret_s" }), "Bearer service-jwt");
  assert.equal(auth({ authorization: "Bearer sb_publishable_p", apikey: "sb_secret_s" }), "Bearer anon-jwt");
});

Deno.test("translateApiKey() keeps a JWT bearer and unknown keys untouched", () => {
  assert.equal(auth({ authorization: "Bearer user-jwt", apikey: "sb_secret_s" }), "Bearer user-jwt");
  assert.equal(auth({ apikey: "sb_secret_wrong" }), null);
  assert.equal(auth({}), null);
});
