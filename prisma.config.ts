// Configuration for the Prisma CLI (Prisma 7 reads the datasource URL here, not
// from schema.prisma). Only `prisma generate`, `validate` and `format` are used
// in this project; migrations are applied by apps/web/src/server/db/migrator.ts,
// which keeps `_prisma_migrations` compatible with `prisma migrate deploy`.
import { defineConfig } from "prisma/config";

const databaseUrl = process.env.DATABASE_URL;

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  // Generating the client needs no database, so the URL is optional here.
  ...(databaseUrl ? { datasource: { url: databaseUrl } } : {}),
});
