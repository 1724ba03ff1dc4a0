/**
 * A Slack-style incoming webhook on 127.0.0.1 for tests: records every JSON body it receives and answers
 * "ok", or fails on demand (status 500, or no answer at all) to play a webhook that is down.
 */
export type WebhookMode = "ok" | "error" | "hang";

export interface TestWebhook {
  url: string;
  received: Array<{ text: string; blocks?: unknown[] }>;
  mode: WebhookMode;
  close(): Promise<void>;
}

export function startTestWebhook(path = "/services/T000/B000/test-webhook-secret"): TestWebhook {
  const hung: Array<(r: Response) => void> = [];
  const hook: TestWebhook = {
    url: "",
    received: [],
    mode: "ok",
    close: async () => {
      for (const resolve of hung) resolve(new Response("late", { status: 504 }));
      await server.shutdown();
    },
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    if (new URL(req.url).pathname !== path) return new Response("no_service", { status: 404 });
    const body = await req.json();
    if (hook.mode === "error") return new Response("internal_error", { status: 500 });
    if (hook.mode === "hang") return await new Promise<Response>((resolve) => hung.push(resolve));
    hook.received.push(body);
    return new Response("ok", { status: 200 });
  });
  hook.url = `http://127.0.0.1:${server.addr.port}${path}`;
  return hook;
}
