// What the caller may do, from forja server's GET /api/2.0/forja/whoami, so the registry
// pages show only the buttons the caller's role may press. The server checks every call
// anyway: this only spares a read token buttons that would answer 403.
import { api } from "./api";
import { useLoad } from "./session";

export interface Role {
  known: boolean; // false until whoami answered (or when it failed): show no write button
  role: string;
  user: string;
  canWrite: boolean;
  isAdmin: boolean;
}

export function useRole(): Role {
  const load = useLoad(() => api.whoami(), []);
  if (load.state !== "ok") return { known: false, role: "none", user: "", canWrite: false, isAdmin: false };
  const { role, user } = load.data;
  return { known: true, role, user, canWrite: role === "write" || role === "admin", isAdmin: role === "admin" };
}
