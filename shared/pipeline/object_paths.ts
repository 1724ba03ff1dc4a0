/**
 * Where the pipeline's objects live in the bucket. Both paths start with the owner's user id, which the Storage
 * policies and the storage trigger read back (docs/DATABASE.md); callers pass validated uuids only, so no path
 * can escape its folder.
 */

/** Raw responses live at raw/{user_id}/{conversation_id}.json; built only from validated uuids. */
export function rawObjectPath(userId: string, conversationId: string): string {
  return `raw/${userId}/${conversationId}.json`;
}

/** Parsed conversations live at {user_id}/{conversation_id}/conversation.json. */
export function finalObjectPath(userId: string, conversationId: string): string {
  return `${userId}/${conversationId}/conversation.json`;
}
