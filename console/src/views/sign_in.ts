/** The sign-in form: Supabase Auth's password sign-in (the same call against the local stack or a project). */
import { html, type SupabaseClient, useState } from "../deps.ts";

export function SignIn(props: { auth: SupabaseClient }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e: Event) {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(null);
    const { error } = await props.auth.auth.signInWithPassword({
      email: String(form.get("email") ?? ""),
      password: String(form.get("password") ?? ""),
    });
    setBusy(false);
    if (error) setError(error.message);
  }
  return html`
    <main id="main" class="sign-in">
      <h1>Review console</h1>
      <p>Sign in with your project account. Reviewers see every user's items; others see their own.</p>
      <form onSubmit=${submit} aria-label="Sign in">
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="username" required autofocus />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <button type="submit" disabled=${busy}>${busy ? "Signing in…" : "Sign in"}</button>
        ${error && html`<p role="alert" class="error">${error}</p>`}
      </form>
    </main>
  `;
}
