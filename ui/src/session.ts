// The session every page shares: a page whose call answers 401 asks for the login form
// through it, and the form's token re-runs the page's calls.
import { createContext } from "preact";
import { useContext, useEffect, useLayoutEffect, useState } from "preact/hooks";
import { ApiError } from "./api";

export interface Session {
  // Bumped on every login or logout: pages reload their data when it changes.
  generation: number;
  requireLogin(message: string): void;
}

export const SessionContext = createContext<Session>({ generation: 0, requireLogin: () => {} });

export type Load<T> =
  | { state: "loading" }
  | { state: "ok"; data: T }
  | { state: "error"; error: ApiError };

function asApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError(0, "CLIENT", String(e));
}

// Runs `fn` when `deps` (or the session) change; a 401 opens the login form. An answer
// that arrives after the inputs changed again is dropped, so fast typing cannot show
// the runs of an older filter. `now` (the same at every render of a component) runs it in
// the render's own task (a layout effect), not after the next frame is painted: for data
// that is in already or nearly (index.html's early calls), shown a frame sooner.
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[], now = false): Load<T> {
  const session = useContext(SessionContext);
  const [load, setLoad] = useState<Load<T>>({ state: "loading" });
  (now ? useLayoutEffect : useEffect)(() => {
    let current = true;
    setLoad((l) => (l.state === "loading" ? l : { state: "loading" }));
    fn().then(
      (data) => current && setLoad({ state: "ok", data }),
      (e: unknown) => {
        if (!current) return;
        const err = asApiError(e);
        if (err.unauthenticated) session.requireLogin(err.message);
        setLoad({ state: "error", error: err });
      },
    );
    return () => {
      current = false;
    };
  }, [...deps, session.generation]); // fn is a new closure each render: deps say when it changed
  return load;
}
