/**
 * The parts of the Telegram Bot API wire format pylon reads (see core.telegram.org/bots/api).
 *
 * @module
 */
// deno-lint-ignore-file camelcase -- field names are Telegram's wire format

/** A Telegram user or bot. */
export interface TgUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  last_name?: string;
  username?: string;
}

/** A chat. */
export interface TgChat {
  id: number;
  type: "private" | "group" | "supergroup" | "channel";
  title?: string;
  username?: string;
  /** True for supergroups with topics enabled. */
  is_forum?: boolean;
}

/** A message. */
export interface TgMessage {
  message_id: number;
  /** Forum topic (or reply thread root in supergroups). */
  message_thread_id?: number;
  /** True when the message was sent in a forum topic. */
  is_topic_message?: boolean;
  from?: TgUser;
  chat: TgChat;
  date: number;
  text?: string;
  reply_to_message?: TgMessage;
  new_chat_members?: TgUser[];
}

/** A press on an inline keyboard button. */
export interface TgCallbackQuery {
  id: string;
  from: TgUser;
  /** The message with the button; absent when it is too old. */
  message?: TgMessage;
  data?: string;
}

/** A change of the bot's membership in a chat. */
export interface TgChatMemberUpdated {
  chat: TgChat;
  from: TgUser;
  date: number;
  old_chat_member: { status: string; user: TgUser };
  new_chat_member: { status: string; user: TgUser };
}

/** One incoming update from `getUpdates`. */
export interface TgUpdate {
  update_id: number;
  message?: TgMessage;
  callback_query?: TgCallbackQuery;
  my_chat_member?: TgChatMemberUpdated;
}

/** A forum topic, as `createForumTopic` returns it. */
export interface TgForumTopic {
  message_thread_id: number;
  name: string;
}

/** An inline keyboard. */
export interface TgInlineKeyboard {
  inline_keyboard: { text: string; callback_data: string }[][];
}

/** The envelope of every Bot API answer. */
export interface TgResponse<T> {
  ok: boolean;
  result?: T;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}
