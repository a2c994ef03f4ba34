// What a new fleet shows: how to add the first host.
import Link from "next/link";
import { useCan } from "../session";
import { EmptyState } from "../ui/empty-state";

export function NoHosts() {
  const isAdmin = useCan("admin");
  return (
    <div className="card">
      <EmptyState title="No hosts yet">
        <p>
          A host joins with one line that installs the agent from this central.{" "}
          {isAdmin
            ? "Create one under Settings → Add host; it shows the exact command to paste on the new machine:"
            : "An administrator creates one under Settings → Add host, which shows the exact command to run on the new machine:"}
        </p>
        <pre className="command">
          curl … https://&lt;central&gt;:3443/install.sh | sudo sh -s -- --join-token &lt;token&gt;
          --server-pin …
        </pre>
        <p>
          <Link href="/settings">Add a host in Settings</Link>
        </p>
      </EmptyState>
    </div>
  );
}
