import { useState } from "preact/hooks";

// The token form: forja server's tokens (`forja server token create`) are the only login.
export function Login({ message, onLogin }: { message: string; onLogin: (token: string) => void }) {
  const [token, setTokenText] = useState("");
  return (
    <form
      class="login"
      onSubmit={(e) => {
        e.preventDefault();
        if (token.trim()) onLogin(token.trim());
      }}
    >
      <h1>Log in</h1>
      <p class="error">{message}</p>
      <label>
        Token
        <input
          type="password"
          name="token"
          autoComplete="current-password"
          value={token}
          onInput={(e) => setTokenText((e.target as HTMLInputElement).value)}
        />
      </label>
      <button type="submit">Log in</button>
      <p class="hint">
        An admin makes one with <code>forja server token create --name NAME --role read</code>. It is kept in this tab only.
      </p>
    </form>
  );
}
