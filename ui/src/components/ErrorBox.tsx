import type { ApiError } from "../api";

export function ErrorBox({ error }: { error: ApiError }) {
  return (
    <p class="error" role="alert">
      {error.message}
    </p>
  );
}
