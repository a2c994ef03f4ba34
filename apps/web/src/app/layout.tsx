// The dashboard's root: the stylesheet and the tRPC/React Query providers.
// Pages under src/app are the browser-facing room: they import @fleet/shared,
// src/client and the API's types, never server modules.
import type { Metadata } from "next";
import type { ReactNode } from "react";
import { Providers } from "@/client/providers";
import "./globals.css";

// Rendered per request: each response carries its own CSP nonce, which Next.js
// can only put on the scripts of a page it renders then.
export const dynamic = "force-dynamic";

export const metadata: Metadata = {
  title: { default: "Fleet", template: "%s · Fleet" },
  description: "Container fleet manager",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
