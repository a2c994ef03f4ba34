import { errorMessage } from "../errors";

/** An API error inline, where the action was; screen readers announce it. */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p role="alert" className="error-note">
      {errorMessage(error)}
    </p>
  );
}
