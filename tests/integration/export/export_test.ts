/**
 * `deno task export` against the stack (docs/EXPORT.md): demo data through the real pipeline in each format,
 * read back and validated; byte-identical repeats; --verify finding a changed and a deleted final file; a
 * Storage outage midway (the gateway's fault injection) leaving no partial file, and --resume completing it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { z } from "zod";
import { CONVERSATION_BUCKET } from "../../../shared/pipeline/object_store.ts";
import {
  ExportError,
  type ExportSource,
  readManifest,
  runExport,
  verifyExport,
} from "../../../shared/export/run.ts";
import { REPO_ROOT } from "../../../local/paths.ts";
import { createTestUser, serviceClient, stackTest } from "../../support/stack.ts";
import { healStack, setFaults } from "../../support/faults.ts";
import { completedRows, generated, stackSource, userFilter } from "./_export.ts";

const text = z.string().min(1);
/** The Messages API shape: user first, alternating, ending with the assistant. */
const messagesLine = z.strictObject({
  system: z.string(),
  messages: z.array(z.strictObject({ role: z.enum(["user", "assistant"]), content: text })).min(2),
}).superRefine((v, ctx) => {
  v.messages.forEach((m, i) => {
    if (m.role !== (i % 2 === 0 ? "user" : "assistant")) {
      ctx.addIssue({ code: "custom", message: `role ${i}` });
    }
  });
  if (v.messages.at(-1)?.role !== "assistant") {
    ctx.addIssue({ code: "custom", message: "last not assistant" });
  }
});
/** OpenAI chat fine-tuning: {"messages": [...]} with system/user/assistant roles and string content. */
const openaiLine = z.strictObject({
  messages: z.array(z.strictObject({ role: z.enum(["system", "user", "assistant"]), content: z.string() }))
    .min(2),
}).superRefine((v, ctx) => {
  if (!v.messages.some((m) => m.role === "assistant")) {
    ctx.addIssue({ code: "custom", message: "no assistant" });
  }
  if (v.messages.at(-1)?.role !== "assistant") {
    ctx.addIssue({ code: "custom", message: "last not assistant" });
  }
});
const recordLine = z.object({
  conversation_id: z.uuid(),
  user_id: z.uuid(),
  parse: z.object({ method: z.string(), parser_version: z.string() }),
  provenance: z.object({ source: z.literal("generated"), model_output: z.literal(true) }),
  hashes: z.object({ raw_sha256: z.string().regex(/^[0-9a-f]{64}$/), final_sha256: z.string() }),
  input_parameters: z.object({ persona_key: z.string() }),
  conversation: z.object({ turns: z.array(z.object({ role: z.string() })).min(2) }),
});

function lines(path: string): unknown[] {
  return Deno.readTextFileSync(path).split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

async function gunzipText(path: string): Promise<string> {
  const stream = (await Deno.open(path)).readable.pipeThrough(new DecompressionStream("gzip"));
  return await new Response(stream).text();
}

stackTest(
  "export: demo data in each format is read back and validated; the manifest accounts for it",
  async () => {
    const user = await createTestUser();
    const ids = await generated(user.id, 3);
    const dir = await Deno.makeTempDir();
    const src = stackSource();
    for (
      const [format, schema] of [["messages", messagesLine], ["openai", openaiLine], [
        "record",
        recordLine,
      ]] as const
    ) {
      const base = join(dir, format);
      const res = await runExport(src, {
        filter: userFilter(user.id),
        format,
        base,
        gzip: false,
        split: null,
        resume: false,
      });
      const got = lines(`${base}.jsonl`);
      assert.equal(got.length, 3, format);
      for (const l of got) schema.parse(l);
      const manifest = readManifest(res.manifestPath);
      assert.deepEqual(manifest.conversations.map((c) => c.conversation_id).sort(), [...ids].sort());
      assert.equal(manifest.counts.by_source.generated, 3);
      assert.equal(manifest.parser_versions.length, 1);
      for (const c of manifest.conversations) assert.match(c.raw_sha256 ?? "", /^[0-9a-f]{64}$/);
    }
    // gzip holds the same lines.
    await runExport(src, {
      filter: userFilter(user.id),
      format: "messages",
      base: join(dir, "gz"),
      gzip: true,
      split: null,
      resume: false,
    });
    assert.equal(
      await gunzipText(join(dir, "gz.jsonl.gz")),
      Deno.readTextFileSync(join(dir, "messages.jsonl")),
    );
    await Deno.remove(dir, { recursive: true });
  },
);

stackTest(
  "export: the CLI twice gives byte-identical files; --verify finds a changed and a deleted final file",
  async () => {
    const user = await createTestUser();
    await completedRows(user.id, 6);
    const dir = await Deno.makeTempDir();
    const run = async (args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", join(REPO_ROOT, "cli/export.ts"), ...args],
        stdout: "piped",
        stderr: "piped",
      }).output();
      return {
        code: out.code,
        stdout: new TextDecoder().decode(out.stdout),
        stderr: new TextDecoder().decode(out.stderr),
      };
    };
    const common = [
      "--user",
      user.id,
      "--format",
      "record",
      "--gzip",
      "--split",
      "train=0.5,eval=0.5",
      "--seed",
      "7",
    ];
    const a = await run([...common, "--out", join(dir, "a")]);
    assert.equal(a.code, 0, a.stderr);
    const b = await run([...common, "--out", join(dir, "b")]);
    assert.equal(b.code, 0, b.stderr);
    for (const split of ["train", "eval"]) {
      assert.deepEqual(
        Deno.readFileSync(join(dir, `a.${split}.jsonl.gz`)),
        Deno.readFileSync(join(dir, `b.${split}.jsonl.gz`)),
        split,
      );
    }
    const ma = readManifest(join(dir, "a.manifest.json"));
    assert.equal(ma.counts.conversations, 6);
    assert.equal((ma.counts.by_split.train ?? 0) + (ma.counts.by_split.eval ?? 0), 6);
    // The manifests differ only in the data files' names.
    assert.equal(
      Deno.readTextFileSync(join(dir, "a.manifest.json")).replaceAll("a.", "x."),
      Deno.readTextFileSync(join(dir, "b.manifest.json")).replaceAll("b.", "x."),
    );

    const clean = await run(["--verify", join(dir, "a.manifest.json")]);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /nothing changed/);

    const [changed, deleted] = ma.conversations;
    const files = serviceClient().storage.from(CONVERSATION_BUCKET);
    const up = await files.upload(changed.file_path, new TextEncoder().encode('{"edited": true}'), {
      upsert: true,
      contentType: "application/json",
    });
    assert.equal(up.error, null);
    const rm = await files.remove([deleted.file_path]);
    assert.equal(rm.error, null);
    const report = await verifyExport(stackSource(), join(dir, "a.manifest.json"));
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.id]).sort(),
      [["changed", changed.conversation_id], ["missing", deleted.conversation_id]].sort(),
    );
    const cli = await run(["--verify", join(dir, "a.manifest.json"), "--json"]);
    assert.equal(cli.code, 1);
    assert.equal(JSON.parse(cli.stdout).findings.length, 2);
    await Deno.remove(dir, { recursive: true });
  },
);

stackTest(
  "export: a Storage outage midway leaves no partial file under the final name; --resume completes it",
  async () => {
    const user = await createTestUser();
    await completedRows(user.id, 12);
    const dir = await Deno.makeTempDir();
    const opts = {
      filter: userFilter(user.id, { sources: ["generated" as const] }),
      format: "openai" as const,
      gzip: false,
      split: null,
      pageSize: 4,
      concurrency: 2,
      downloadTries: 2,
      retryDelayMs: 10,
    };
    const src = stackSource();
    let pages = 0;
    try {
      const failing: ExportSource = {
        ...src,
        downloadMany: async (bucket, paths, concurrency) => {
          // Storage goes down (through the gateway) after the first page.
          if (++pages === 2) await setFaults({ storage: "down" });
          return await src.downloadMany!(bucket, paths, concurrency);
        },
      };
      await assert.rejects(
        runExport(failing, { ...opts, base: join(dir, "out"), resume: false }),
        (err: unknown) => err instanceof ExportError && err.code === "storage_unavailable",
      );
      const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
      assert.ok(!names.includes("out.jsonl") && !names.includes("out.manifest.json"), names.join(","));
      assert.ok(names.includes("out.checkpoint.json"), names.join(","));
      // Without --resume the unfinished export is not overwritten.
      await assert.rejects(
        runExport(src, { ...opts, base: join(dir, "out"), resume: false }),
        (err: unknown) => err instanceof ExportError && err.code === "partial_export_exists",
      );
    } finally {
      await healStack();
    }
    const resumed = await runExport(src, { ...opts, base: join(dir, "out"), resume: true });
    assert.equal(resumed.resumedFrom, 4);
    assert.equal(resumed.counts.conversations, 12);
    const fresh = await runExport(src, { ...opts, base: join(dir, "fresh"), resume: false });
    assert.deepEqual(Deno.readFileSync(join(dir, "out.jsonl")), Deno.readFileSync(join(dir, "fresh.jsonl")));
    assert.equal(fresh.files[0].sha256, resumed.files[0].sha256);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "fresh.jsonl",
      "fresh.manifest.json",
      "out.jsonl",
      "out.manifest.json",
    ]);
    await Deno.remove(dir, { recursive: true });
  },
);
