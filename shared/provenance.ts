/**
 * Where a conversation came from: `conversations.source`, set by the database at insert and never changed
 * (migration 20251204000100_add_conversation_source.sql; docs/SECURITY.md, "Provenance").
 *
 *   generated  Claude's answer to generate-conversation's prompt
 *   uploaded   a signed-in user's own upload to raw/{their id}/ — not model output
 *   recovered  an object written with the service key that had no row (the database was down during a
 *              generation, or an operator's upload)
 *   manual     a row an operator inserted by hand
 */
export const CONVERSATION_SOURCES = ["generated", "uploaded", "recovered", "manual"] as const;
export type ConversationSource = typeof CONVERSATION_SOURCES[number];
