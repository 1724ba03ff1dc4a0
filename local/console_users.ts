/**
 * The review console's two local logins, created (or reset) by `deno task stack:start` so ./bin/start can print
 * them and the browser tests can sign in:
 *
 *   reviewer@local.test  app_metadata.role = "reviewer": sees and acts on every user's review items
 *   demo@local.test      a plain user (the demo's generating user, DEMO_USER_ID): sees only their own items
 *
 * Passwords are fixed development values, hashed with pgcrypto's bcrypt like Supabase Auth's. The role is
 * written here with SQL, as a hosted project writes it (docs/SECURITY.md, "Reviewers"): never by the user.
 */
import postgres from "postgres";
import { DEMO_USER_EMAIL, DEMO_USER_ID } from "./demo/run_demo.ts";

export interface ConsoleLogin {
  id: string;
  email: string;
  password: string;
  reviewer: boolean;
}

export const REVIEWER_LOGIN: ConsoleLogin = {
  id: "7e71e3e0-0000-4000-8000-000000000001",
  email: "reviewer@local.test",
  password: "reviewer-password",
  reviewer: true,
};

export const DEMO_LOGIN: ConsoleLogin = {
  id: DEMO_USER_ID,
  email: DEMO_USER_EMAIL,
  password: "demo-password",
  reviewer: false,
};

/** Creates the logins, or resets their password and role; the user rows keep their ids and their data. */
export async function ensureConsoleUsers(
  dbUrl: string,
  logins: readonly ConsoleLogin[] = [REVIEWER_LOGIN, DEMO_LOGIN],
): Promise<void> {
  const sql = postgres(dbUrl, { prepare: false, max: 1, onnotice: () => {} });
  try {
    for (const l of logins) {
      const appMeta = JSON.stringify({
        provider: "email",
        providers: ["email"],
        ...(l.reviewer ? { role: "reviewer" } : {}),
      });
      await sql`
        insert into auth.users (id, aud, role, email, encrypted_password, email_confirmed_at, raw_app_meta_data,
                                raw_user_meta_data)
        values (${l.id}, 'authenticated', 'authenticated', ${l.email},
                extensions.crypt(${l.password}, extensions.gen_salt('bf', 10)), now(), ${appMeta}::text::jsonb,
                '{}'::jsonb)
        on conflict (id) do update
          set encrypted_password = excluded.encrypted_password, email = excluded.email,
              raw_app_meta_data = (case when jsonb_typeof(auth.users.raw_app_meta_data) = 'object'
                                   then auth.users.raw_app_meta_data else '{}'::jsonb end) - 'role'
                                  || excluded.raw_app_meta_data,
              email_confirmed_at = coalesce(auth.users.email_confirmed_at, now())`;
    }
  } finally {
    await sql.end({ timeout: 2 });
  }
}

/** The lines ./bin/start prints under the console's URL. */
export function consoleLoginLines(consoleUrl: string): string[] {
  return [
    `  Review console: ${consoleUrl}`,
    `                  reviewer: ${REVIEWER_LOGIN.email} / ${REVIEWER_LOGIN.password} (every user's items, health)`,
    `                  user:     ${DEMO_LOGIN.email} / ${DEMO_LOGIN.password} (their own items)`,
  ];
}
