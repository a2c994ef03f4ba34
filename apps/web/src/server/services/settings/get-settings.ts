// The fleet-wide settings as the API shows them.
import type { PrismaClient } from "../../db/client";
import { readBindMountPrefixes } from "../../db/setting-rows";

export interface TSettings {
  bindMountPrefixes: string[];
}

export async function getSettings(options: { db: PrismaClient }): Promise<TSettings> {
  return { bindMountPrefixes: await readBindMountPrefixes({ db: options.db }) };
}
