/**
 * The console's npm dependencies, pinned in this one file (the browser bundle is built by `deno bundle`, which
 * resolves npm: specifiers itself; supabase-js comes through deno.json, at the version the functions use).
 * Preact + htm (tagged templates instead of JSX: no build step of its own), uPlot for charts.
 */
import { h, type VNode } from "npm:preact@10.29.8";
import htmModule from "npm:htm@3.1.1";

export { Fragment, h, render } from "npm:preact@10.29.8";
export type { ComponentChildren, VNode } from "npm:preact@10.29.8";
export { useCallback, useEffect, useMemo, useRef, useState } from "npm:preact@10.29.8/hooks";
export { default as uPlot } from "npm:uplot@1.6.32";
export { createClient, type Session, type SupabaseClient } from "@supabase/supabase-js";

type Tag = (strings: TemplateStringsArray, ...values: unknown[]) => VNode;
// htm ships CommonJS and ESM builds whose default export the type checker and the bundler see differently.
const htm = ((htmModule as unknown as { default?: unknown }).default ?? htmModule) as {
  bind(f: typeof h): Tag;
};

/** `html\`<p>${x}</p>\`` → Preact elements. */
export const html: Tag = htm.bind(h);
