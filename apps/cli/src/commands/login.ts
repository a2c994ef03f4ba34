// `fleet login URL`: with --token, checks the token and stores it; without,
// signs in with email and password once (the session cookie is used for one
// call), creates an API token named `fleet-cli@<hostname>`, signs the session
// out again and stores the token.
import { CliError, EXIT, UsageError } from "../cli-error";
import { createFleetClient } from "../client";
import { defineCommand } from "../command";
import { normalizeServerUrl, writeConfigFile } from "../config";
import { println } from "../io";
import { promptLine, readStdinLines } from "../prompt";

function sessionCookieFrom(response: Response): string | null {
  const pairs = response.headers
    .getSetCookie()
    .map((line) => line.split(";")[0]?.trim() ?? "")
    .filter((pair) => pair.includes("=") && !pair.endsWith("="));
  return pairs.length > 0 ? pairs.join("; ") : null;
}

export const loginCommand = defineCommand({
  spec: {
    name: "login",
    summary: "Log in to a Fleet central and keep an API token for the other commands",
    usage: "[OPTIONS] URL",
    details: [
      "Without --token, asks for your email and password (or reads them from stdin,",
      "one per line, when stdin is not a terminal), signs in once and creates an API",
      "token named fleet-cli@<hostname>. The URL and token are stored in",
      "$XDG_CONFIG_HOME/fleet/config.json (~/.config/fleet/config.json), mode 0600.",
      "FLEET_URL and FLEET_TOKEN, when set, take precedence over the file.",
    ],
    options: {
      token: { type: "string", short: "t", value: "TOKEN", description: "Use this API token (fleet_api_…)" },
      email: { type: "string", short: "u", value: "EMAIL", description: "Sign in as EMAIL" },
      "password-stdin": {
        type: "boolean",
        description: "Read the password from stdin (with --email)",
      },
    },
    args: { min: 1, max: 1, what: "the central's URL is" },
    examples: [
      "fleet login http://central:3000",
      "fleet login --token fleet_api_… https://fleet.example.com",
      'printf \'%s\\n\' "$EMAIL" "$PASSWORD" | fleet login http://central:3000',
    ],
  },
  async run(context, { values, args }) {
    const { io } = context;
    const url = normalizeServerUrl(args[0]!);
    context.url = url;
    if (values.token !== undefined && (values.email !== undefined || values["password-stdin"])) {
      throw new UsageError("--token cannot be combined with --email or --password-stdin", "login");
    }

    if (values.token !== undefined) {
      const token = values.token.trim();
      if (!token) throw new UsageError("--token is empty", "login");
      const client = createFleetClient({ url, auth: { bearer: token } });
      const me = await client.auth.me.query();
      if (!me.user) {
        // auth.me only says "anonymous"; a procedure that needs a caller says why (revoked, expired, …).
        await client.host.list.query({ limit: 1 });
        throw new CliError(`the central at ${url} did not accept the token`, EXIT.unauthorized);
      }
      await writeConfigFile(context.configPath, { url, token });
      println(io.stderr, `Logged in to ${url} as ${me.user.email} (${me.user.role}) with the given token`);
      return EXIT.ok;
    }

    const interactive = io.stdin.isTTY === true && !values["password-stdin"];
    let email = values.email?.trim();
    let password: string | undefined;
    if (interactive) {
      email ||= (
        await promptLine({ stdin: io.stdin, prompt: io.stderr, question: "Email: ", echo: true })
      ).trim();
      password = await promptLine({
        stdin: io.stdin,
        prompt: io.stderr,
        question: "Password: ",
        echo: false,
      });
    } else {
      const lines = await readStdinLines(io.stdin);
      if (!email) email = lines.shift()?.trim();
      password = lines.shift();
    }
    if (!email)
      throw new UsageError("no email given (use --email, or pipe it in on the first line)", "login");
    if (!password) throw new UsageError("no password given", "login");

    const jar: { cookie: string | null } = { cookie: null };
    const anonymous = createFleetClient({
      url,
      auth: null,
      onResponse(response) {
        jar.cookie = sessionCookieFrom(response) ?? jar.cookie;
      },
    });
    // A wrong password comes back as UNAUTHORIZED: exit 3 like any refused credential.
    const signedIn = await anonymous.auth.signIn.mutate({ email, password });
    if (!jar.cookie) throw new CliError(`the central at ${url} signed you in but set no session cookie`);
    const session = createFleetClient({ url, auth: { cookie: jar.cookie } });
    try {
      const created = await session.apiToken.create.mutate({ name: `fleet-cli@${io.hostname()}` });
      await writeConfigFile(context.configPath, {
        url,
        token: created.token,
        tokenId: created.apiToken.id,
      });
    } finally {
      // The token is what stays; the browser-style session is not needed again.
      await session.auth.signOut.mutate().catch(() => undefined);
    }
    println(io.stderr, `Logged in to ${url} as ${signedIn.user.email} (${signedIn.user.role})`);
    return EXIT.ok;
  },
});
