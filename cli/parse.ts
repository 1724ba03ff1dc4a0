/**
 * Parse stored Claude responses from the command line. Other tools depend on this interface: keep it stable
 * (add fields, never rename or remove them). Documented in docs/PARSING.md, "CLI".
 *
 *   deno task parse [FILE|-]            one stored response (the raw Messages API body) from FILE or stdin;
 *                                       prints the full ParseResult as JSON
 *   deno task parse --ndjson [FILE|-]   one request per line: {"id": ..., "raw": "<stored body>"};
 *                                       writes one line per request:
 *                                       {"id","outcome","method","conversation","error"}
 *   deno task parse --version           prints the parser version
 *
 * Exit status: 0 when results were written, whatever their outcome (read `outcome`); 1 when the input cannot
 * be read; 2 on a usage error. In --ndjson mode a line that is not a request gives an output line with
 * error code `invalid_input` (a CLI code, not a parser one) and processing continues.
 *
 * calls: shared/parse/mod.ts (parseStoredResponse).
 */
import { PARSER_VERSION, parseStoredResponse } from "../shared/parse/mod.ts";

const USAGE = `Usage:
  deno task parse [FILE|-]            parse one stored response; prints the result as JSON
  deno task parse --ndjson [FILE|-]   read lines {"id","raw"}; write lines {"id","outcome","method","conversation","error"}
  deno task parse --version           print the parser version
FILE defaults to stdin ("-").`;

const encoder = new TextEncoder();

async function write(stream: WritableStreamDefaultWriter<Uint8Array>, text: string): Promise<void> {
  await stream.write(encoder.encode(text));
}

function openInput(path: string): Promise<ReadableStream<Uint8Array>> {
  return path === "-" ? Promise.resolve(Deno.stdin.readable) : Deno.open(path).then((file) => file.readable);
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Lines of a UTF-8 stream, without their line ends; a final line without "\n" is kept. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let end = buffered.indexOf("\n");
    while (end >= 0) {
      yield buffered.slice(0, end).replace(/\r$/, "");
      buffered = buffered.slice(end + 1);
      end = buffered.indexOf("\n");
    }
  }
  if (buffered.length > 0) yield buffered.replace(/\r$/, "");
}

type NdjsonRequest = { readonly id: unknown; readonly raw: string } | {
  readonly id: unknown;
  readonly problem: string;
};

function readRequest(line: string): NdjsonRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { id: null, problem: "the line is not JSON" };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { id: null, problem: "the line is not a JSON object" };
  }
  const request = value as { id?: unknown; raw?: unknown };
  const id = request.id ?? null;
  // `raw` is the stored body as a string; an object is accepted too and serialised, for hand-made requests.
  if (typeof request.raw === "string") return { id, raw: request.raw };
  if (request.raw !== null && typeof request.raw === "object") {
    return { id, raw: JSON.stringify(request.raw) };
  }
  return { id, problem: "raw is missing or not a string" };
}

async function runNdjson(input: ReadableStream<Uint8Array>, out: WritableStreamDefaultWriter<Uint8Array>) {
  let number = 0;
  for await (const line of lines(input)) {
    number++;
    if (line.trim().length === 0) continue;
    const request = readRequest(line);
    const output = "problem" in request
      ? {
        id: request.id,
        outcome: "failed",
        method: null,
        conversation: null,
        error: { code: "invalid_input", message: `Cannot read line ${number}: ${request.problem}` },
      }
      : (() => {
        const result = parseStoredResponse(request.raw);
        return {
          id: request.id,
          outcome: result.outcome,
          method: result.method,
          conversation: result.conversation,
          error: result.error,
        };
      })();
    await write(out, JSON.stringify(output) + "\n");
  }
}

/** Runs the CLI; returns the exit status. */
export async function main(args: readonly string[]): Promise<number> {
  const out = Deno.stdout.writable.getWriter();
  try {
    const flags = args.filter((arg) => arg.startsWith("--"));
    const paths = args.filter((arg) => !arg.startsWith("--"));
    const unknown = flags.filter((flag) => !["--ndjson", "--version", "--help"].includes(flag));
    if (flags.includes("--help") || args.includes("-h")) {
      await write(out, USAGE + "\n");
      return 0;
    }
    if (unknown.length > 0 || paths.length > 1) {
      console.error(
        unknown.length > 0
          ? `parse: unknown option '${unknown[0]}' (see --help)`
          : "parse: one input file at most (see --help)",
      );
      return 2;
    }
    if (flags.includes("--version")) {
      await write(out, PARSER_VERSION + "\n");
      return 0;
    }
    const path = paths[0] ?? "-";
    let input: ReadableStream<Uint8Array>;
    try {
      input = await openInput(path);
    } catch (error) {
      console.error(`Cannot read input "${path}": ${error instanceof Error ? error.message : String(error)}`);
      return 1;
    }
    if (flags.includes("--ndjson")) {
      await runNdjson(input, out);
    } else {
      // Bytes, not text: the parser checks UTF-8 itself, exactly as it does for objects read from Storage.
      const result = parseStoredResponse(await readAll(input));
      await write(out, JSON.stringify(result, null, 2) + "\n");
    }
    return 0;
  } finally {
    await out.close().catch(() => {});
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
