DROP INDEX "chats_last_message_idx";--> statement-breakpoint
DROP INDEX "messages_chat_sent_idx";--> statement-breakpoint
CREATE INDEX "chats_last_message_idx" ON "chats" USING btree ("last_message_at","account_id","id");--> statement-breakpoint
CREATE INDEX "messages_chat_sent_idx" ON "messages" USING btree ("account_id","chat_id","sent_at","id");