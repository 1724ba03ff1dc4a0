/** serveConsoleFiles(): only files inside the folder, index.html for app paths, 503 before a build, CSP on HTML. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { serveConsoleFiles } from "../../../../local/gateway/console_files.ts";

Deno.test("serveConsoleFiles() serves the build, falls back to index.html and refuses paths out of the folder", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const serve = serveConsoleFiles(join(dir, "console"));
    const missing = await serve(new Request("http://c.test/"));
    assert.equal(missing.status, 503, "not built yet");
    assert.match(await missing.text(), /console:build/);

    await Deno.mkdir(join(dir, "console"));
    await Deno.writeTextFile(join(dir, "console", "index.html"), "<!doctype html><title>x</title>");
    await Deno.writeTextFile(join(dir, "console", "app.js"), "export {}");
    await Deno.writeTextFile(join(dir, "secret.txt"), "outside");

    const index = await serve(new Request("http://c.test/"));
    assert.equal(index.status, 200);
    assert.match(index.headers.get("content-type") ?? "", /text\/html/);
    assert.match(index.headers.get("content-security-policy") ?? "", /script-src 'self'/);
    await index.body?.cancel();
    const js = await serve(new Request("http://c.test/app.js"));
    assert.match(js.headers.get("content-type") ?? "", /javascript/);
    assert.equal(await js.text(), "export {}");
    const route = await serve(new Request("http://c.test/queue"));
    assert.equal(route.status, 200, "a path without an extension is the app");
    await route.body?.cancel();
    for (const path of ["/../secret.txt", "/%2e%2e/secret.txt", "/missing.js"]) {
      const r = await serve(new Request(`http://c.test${path}`));
      assert.equal(r.status, 404, path);
      await r.body?.cancel();
    }
    const post = await serve(new Request("http://c.test/", { method: "POST" }));
    assert.equal(post.status, 405);
    await post.body?.cancel();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
