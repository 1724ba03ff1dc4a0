/**
 * deno run -A local/doc_links.ts — fails (exit 1) on any reference that leaves the repository.
 *
 * A clone must stand alone: docs and comments may not send a reader to a folder next to the checkout (such as
 * `../shared/…`), to an absolute path on someone's machine, or (in Markdown) to a link with a URL scheme.
 * Checked in every Markdown file git tracks, and in the comments of its TypeScript, SQL and shell files:
 *   - a `../…` path that resolves outside the repository from the file's folder, or that does not exist there
 *     and is no repository path either (Markdown: read from the root; a comment: with the `../` removed);
 *   - an absolute path under /work, /home, /root or /Users;
 *   - in Markdown, a link `[text](target)` whose target has a scheme (http:, https:, file:, …).
 * `./bin/test` runs it as one of its checks. Prints one line per finding: `file:line: what`.
 */
import { existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { REPO_ROOT } from "./paths.ts";

export interface LinkFinding {
  file: string;
  line: number;
  text: string;
  why: string;
}

const TEXT_FILE = /\.(md|ts|sql|sh)$|^bin\/[^/.]+$/;
const RELATIVE = /(?<![\w.\/-])((?:\.\.\/)+[\w.@\-\/]*)/g;
const ABSOLUTE = /(?<![\w.\/:-])(\/(?:work|home|root|Users)\/[\w.@\-\/]*)/g;
const MD_LINK = /\]\(\s*<?([a-z][a-z0-9+.-]*:[^)>\s]*)>?\s*\)/gi;

function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === "" || (!rel.startsWith("..") && !rel.startsWith("/"));
}

const COMMENT = /^\s*(\/\/|\/\*|\*|--|#)/;

/** The findings in one file's text (pure, for tests). `file` is relative to `root`. */
export function findOutsideLinks(root: string, file: string, text: string): LinkFinding[] {
  const out: LinkFinding[] = [];
  const markdown = file.endsWith(".md");
  text.split("\n").forEach((line, i) => {
    // Markdown is prose throughout; in code only comments are (test data and config samples are not links).
    if (!markdown && !COMMENT.test(line)) return;
    for (const m of line.matchAll(RELATIVE)) {
      const target = m[1].replace(/[.,;:)`'"]+$/, "");
      const fromFile = resolve(root, dirname(file), target);
      let leaves = !inside(root, fromFile);
      if (!leaves && !existsSync(fromFile)) {
        // Docs write paths from the root; a comment may name a repository file as its callers import it.
        leaves = markdown
          ? !inside(root, resolve(root, target))
          : !existsSync(join(root, target.replace(/^(\.\.\/)+/, "")));
      }
      if (leaves) out.push({ file, line: i + 1, text: target, why: "a path outside the repository" });
    }
    for (const m of line.matchAll(ABSOLUTE)) {
      const text = m[1].replace(/[.,;:]+$/, "");
      out.push({ file, line: i + 1, text, why: "an absolute path on one machine" });
    }
    if (markdown) {
      for (const m of line.matchAll(MD_LINK)) {
        out.push({ file, line: i + 1, text: m[1], why: "a link leaving the repository" });
      }
    }
  });
  return out;
}

/** Every tracked text file of the repository, checked. */
export async function checkRepository(root: string = REPO_ROOT): Promise<LinkFinding[]> {
  const res = await new Deno.Command("git", { args: ["ls-files", "-co", "--exclude-standard"], cwd: root })
    .output();
  const files = new TextDecoder().decode(res.stdout).split("\n").filter((f) =>
    f !== "" && TEXT_FILE.test(f) && !f.startsWith("tools/") && !f.startsWith("tests/fixtures/corpus/") &&
    existsSync(join(root, f))
  );
  const findings: LinkFinding[] = [];
  for (const f of files) findings.push(...findOutsideLinks(root, f, Deno.readTextFileSync(join(root, f))));
  return findings;
}

if (import.meta.main) {
  const findings = await checkRepository();
  for (const f of findings) console.log(`${f.file}:${f.line}: ${f.why}: ${f.text}`);
  console.log(
    findings.length === 0
      ? "links: every reference stays in the repository"
      : `links: ${findings.length} reference(s) leave the repository`,
  );
  Deno.exit(findings.length === 0 ? 0 : 1);
}
