import assert from "node:assert/strict";
import { parse } from "yaml";
import { ConfigError } from "../../src/errors.ts";
import { persistChatId } from "../../src/channel/telegram/mod.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "pylon-persist-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function entries(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

Deno.test("persistChatId() sets defaults.channel.telegram.chat_id keeping comments", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/config.yaml`;
    const before = [
      "# pylon global config",
      "server:",
      "  port: 8080 # keep me",
      "defaults:",
      "  channel:",
      "    type: telegram",
      "    telegram:",
      "      # the bot",
      '      bot_token: "${TELEGRAM_BOT_TOKEN}"',
      "      allowed_users: [1, 2]",
      "",
    ].join("\n");
    await Deno.writeTextFile(file, before);
    await Deno.chmod(file, 0o600);
    await persistChatId(file, ["defaults", "channel", "telegram", "chat_id"], -100123);
    const after = await Deno.readTextFile(file);
    assert.equal(after, before + "      chat_id: -100123\n");
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    assert.deepEqual(await entries(dir), ["config.yaml"], "no temporary file is left");
  });
});

Deno.test("persistChatId() replaces an existing chat_id in a pylon file", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/pylon.yaml`;
    await Deno.writeTextFile(
      file,
      "name: a\nchannel:\n  telegram:\n    chat_id: 0 # detect\n    bot_token: x\n",
    );
    await persistChatId(file, ["channel", "telegram", "chat_id"], 42);
    const text = await Deno.readTextFile(file);
    assert.equal(
      text,
      "name: a\nchannel:\n  telegram:\n    chat_id: 42 # detect\n    bot_token: x\n",
    );
  });
});

Deno.test("persistChatId() creates a missing file and refuses broken YAML", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/config.yaml`;
    await persistChatId(file, ["defaults", "channel", "telegram", "chat_id"], 7);
    assert.deepEqual(parse(await Deno.readTextFile(file)), {
      defaults: { channel: { telegram: { chat_id: 7 } } },
    });
    await Deno.writeTextFile(file, "a: [1,\n");
    await assert.rejects(
      persistChatId(file, ["defaults", "channel", "telegram", "chat_id"], 7),
      (e: unknown) => e instanceof ConfigError && /not valid YAML/.test(e.message),
    );
    assert.equal(await Deno.readTextFile(file), "a: [1,\n", "a broken file is left alone");
  });
});
