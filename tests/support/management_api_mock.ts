/**
 * A small stand-in for the Supabase Management API, enough for `supabase functions deploy --use-api` (CLI
 * 2.117.0) to run to the end, recording what it uploads. The CLI reaches it through a profile file whose
 * `api_url` points here (`--profile <file.yaml>`).
 *
 * What the CLI calls, in order (seen with a logging server): `POST /v1/projects/{ref}/functions/deploy?slug=…`
 * once per function (multipart: one `file` part per source file, named by its path relative to the project
 * root, and one `metadata` part: entrypoint_path, import_map_path, static_patterns, verify_jwt, name), then
 * `PUT /v1/projects/{ref}/functions` (bulk update, answered with `{functions: [...]}`), then
 * `GET /v1/projects/{ref}` for the dashboard link. Anything else is answered 404 and recorded in `unexpected`.
 *
 * For `deno task recover --project-ref` it also answers the logs endpoint
 * (`GET /v1/projects/{ref}/analytics/endpoints/logs.all?sql=…&iso_timestamp_start=…&iso_timestamp_end=…`): the
 * entries pushed to `functionLogs` whose time is in the range (at most 24 hours, else 400 as the platform does),
 * as `{result: [{id, timestamp, event_message}], error: null}`, for a query `from function_logs` only; each query
 * is recorded in `logQueries`.
 */
import { z } from "zod";

export const deployMetadataSchema = z.object({
  entrypoint_path: z.string(),
  import_map_path: z.string().optional().default(""),
  static_patterns: z.array(z.string()).optional().default([]),
  verify_jwt: z.boolean().optional(),
  name: z.string(),
});

export type DeployMetadata = z.infer<typeof deployMetadataSchema>;

export interface DeployUpload {
  slug: string;
  metadata: DeployMetadata;
  /** Path (as the CLI names the part) → bytes. */
  files: Map<string, Uint8Array>;
}

export interface MockFunctionLog {
  /** When the line was logged. */
  at: Date;
  event_message: string;
}

export interface MockManagementApi {
  url: string;
  uploads: DeployUpload[];
  functionLogs: MockFunctionLog[];
  logQueries: Array<{ sql: string; start: string; end: string }>;
  unexpected: string[];
  close(): Promise<void>;
}

export const MOCK_ACCESS_TOKEN = "sbp_" + "0123456789abcdef".repeat(2) + "01234567";

export function startMockManagementApi(projectRef: string): MockManagementApi {
  const uploads: DeployUpload[] = [];
  const unexpected: string[] = [];
  const functionLogs: MockFunctionLog[] = [];
  const logQueries: Array<{ sql: string; start: string; end: string }> = [];
  const base = `/v1/projects/${projectRef}`;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    if (req.headers.get("authorization") !== `Bearer ${MOCK_ACCESS_TOKEN}`) {
      unexpected.push(`${req.method} ${url.pathname} without the access token`);
      return Response.json({ message: "Unauthorized" }, { status: 401 });
    }
    if (req.method === "POST" && url.pathname === `${base}/functions/deploy`) {
      const slug = url.searchParams.get("slug") ?? "";
      const form = await req.formData();
      const files = new Map<string, Uint8Array>();
      let metadata: DeployMetadata | null = null;
      for (const [key, value] of form.entries()) {
        if (key === "metadata" && typeof value === "string") {
          metadata = deployMetadataSchema.parse(JSON.parse(value));
        } else if (key === "file" && typeof value !== "string") {
          files.set(value.name, new Uint8Array(await value.arrayBuffer()));
        } else {
          unexpected.push(`deploy ${slug}: unexpected part ${key}`);
        }
      }
      if (!metadata) {
        unexpected.push(`deploy ${slug}: no metadata part`);
        return Response.json({ message: "metadata is required" }, { status: 400 });
      }
      uploads.push({ slug, metadata, files });
      const now = Date.now();
      return Response.json({
        id: crypto.randomUUID(),
        slug,
        name: metadata.name,
        version: 1,
        status: "ACTIVE",
        created_at: now,
        updated_at: now,
        verify_jwt: metadata.verify_jwt,
        entrypoint_path: metadata.entrypoint_path,
        import_map_path: metadata.import_map_path,
      }, { status: 201 });
    }
    if (req.method === "GET" && url.pathname === `${base}/analytics/endpoints/logs.all`) {
      const sql = url.searchParams.get("sql") ?? "";
      const start = url.searchParams.get("iso_timestamp_start") ?? "";
      const end = url.searchParams.get("iso_timestamp_end") ?? "";
      logQueries.push({ sql, start, end });
      const from = Date.parse(start);
      const to = Date.parse(end);
      if (isNaN(from) || isNaN(to) || to - from > 24 * 3_600_000) {
        return Response.json({ message: "the range must be at most 24 hours" }, { status: 400 });
      }
      if (!/\bfrom function_logs\b/.test(sql)) return Response.json({ result: [], error: null });
      const result = functionLogs
        .filter((l) => l.at.getTime() >= from && l.at.getTime() < to)
        .map((l, i) => ({
          id: `log-${i}`,
          timestamp: l.at.getTime() * 1000,
          event_message: l.event_message,
        }));
      return Response.json({ result, error: null });
    }
    if (req.method === "PUT" && url.pathname === `${base}/functions`) {
      return Response.json({ functions: await req.json() });
    }
    if (req.method === "GET" && url.pathname === `${base}/functions`) return Response.json([]);
    if (req.method === "GET" && url.pathname === base) {
      return Response.json({
        id: projectRef,
        ref: projectRef,
        name: "deploy-test",
        organization_id: "deploy-test",
        region: "us-east-1",
        status: "ACTIVE_HEALTHY",
        created_at: "2026-01-01T00:00:00Z",
      });
    }
    unexpected.push(`${req.method} ${url.pathname}${url.search}`);
    await req.body?.cancel();
    return Response.json({ message: "not found" }, { status: 404 });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    uploads,
    functionLogs,
    logQueries,
    unexpected,
    close: () => server.shutdown(),
  };
}
