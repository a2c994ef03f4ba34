export default function HomePage() {
  return (
    <main>
      <h1>Fleet</h1>
      <p>The dashboard is coming. The API is already here:</p>
      <ul>
        <li>
          <a href="/api/trpc/health">/api/trpc/health</a>: is the central up and its database reachable
        </li>
        <li>
          <a href="/metrics">/metrics</a>: Prometheus metrics
        </li>
      </ul>
    </main>
  );
}
