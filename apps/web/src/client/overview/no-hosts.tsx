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
          A host joins by running the agent with a join token.{" "}
          {isAdmin
            ? "Create one under Settings → Add host; it shows the exact command to paste on the new machine:"
            : "An administrator creates one under Settings → Add host, which shows the exact command to run on the new machine:"}
        </p>
        <pre className="command">fleet-agent --server &lt;url&gt; --join-token &lt;token&gt;</pre>
        <p>
          <Link href="/settings">Add a host in Settings</Link>
        </p>
      </EmptyState>
    </div>
  );
}
