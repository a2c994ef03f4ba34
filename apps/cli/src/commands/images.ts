// `fleet images`: the images each host holds, one row per tag, as the
// central last heard from the hosts (--refresh asks them first).
import type { THostImage } from "../api-types";
import { EXIT } from "../cli-error";
import { defineCommand } from "../command";
import { ago, bytes, shortImageId } from "../format/format";
import { renderTable } from "../format/table";
import { println } from "../io";
import { resolveHost } from "../resolve";

/** `host:5000/a/b:tag` → [`host:5000/a/b`, `tag`]. */
export function splitTag(reference: string): [repository: string, tag: string] {
  const colon = reference.lastIndexOf(":");
  if (colon <= reference.lastIndexOf("/")) return [reference, "latest"];
  return [reference.slice(0, colon), reference.slice(colon + 1)];
}

export function imageRows(images: readonly THostImage[], now: number): string[] {
  const rows: string[][] = [];
  for (const image of images) {
    const tags = image.tags.length > 0 ? image.tags : ["<none>:<none>"];
    for (const tag of tags) {
      const [repository, name] = tag === "<none>:<none>" ? ["<none>", "<none>"] : splitTag(tag);
      rows.push([
        image.hostName,
        repository,
        name,
        shortImageId(image.id),
        ago(image.createdAt, now),
        bytes(image.sizeBytes),
      ]);
    }
  }
  return renderTable(["HOST", "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"], rows);
}

export const imagesCommand = defineCommand({
  spec: {
    name: "images",
    summary: "List the images on the hosts",
    usage: "[OPTIONS]",
    options: {
      host: { type: "string", value: "HOST", description: "Only this host (name or id)" },
      refresh: { type: "boolean", description: "Ask the hosts for their images first" },
      json: { type: "boolean", description: "Print the images as a JSON array (the API's objects)" },
      quiet: { type: "boolean", short: "q", description: "Print image ids only" },
    },
    args: { min: 0, max: 0, what: "" },
    examples: ["fleet images", "fleet images --host node-1 --refresh"],
  },
  async run(context, { values }) {
    const { client } = await context.session();
    const hostId = values.host ? (await resolveHost(client, values.host)).id : undefined;
    if (values.refresh) {
      const { hosts } = await client.image.refresh.mutate(hostId ? { hostId } : {});
      for (const outcome of hosts.filter((host) => !host.ok)) {
        println(context.io.stderr, `fleet: ${outcome.hostName}: ${outcome.error ?? "could not list images"}`);
      }
    }
    const { items } = await client.image.list.query(hostId ? { hostId } : {});
    const { stdout } = context.io;
    if (values.json) println(stdout, JSON.stringify(items, null, 2));
    else if (values.quiet) for (const id of new Set(items.map((image) => image.id))) println(stdout, id);
    else for (const line of imageRows(items, context.io.now())) println(stdout, line);
    return EXIT.ok;
  },
});
