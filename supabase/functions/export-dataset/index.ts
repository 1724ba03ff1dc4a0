// export-dataset: completed conversations out as a JSONL stream (or its manifest), for the service role.
// called by: a service-role client (the console, later); `deno task export` is the same export to files
// next: shared/export/handle_export_dataset.ts → stream.ts → pages.ts
import { serveHandler } from "../../../shared/http/serve.ts";
import { exportDepsFromEnv } from "../../../shared/export/deps_from_env.ts";
import { handleExportDataset } from "../../../shared/export/handle_export_dataset.ts";

const deps = exportDepsFromEnv(Deno.env);

Deno.serve(serveHandler(handleExportDataset(deps), "export-dataset"));
