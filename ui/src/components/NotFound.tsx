// A page for something the URL names that does not exist: never a blank page.
import type { ComponentChildren } from "preact";

export function NotFound({ what, children }: { what: string; children?: ComponentChildren }) {
  return (
    <section class="not-found">
      <h1>Not found</h1>
      <p role="alert">{what}</p>
      {children}
    </section>
  );
}
