DROP INDEX "sends_due_idx";--> statement-breakpoint
CREATE INDEX "sends_due_idx" ON "sends" USING btree ("next_attempt_at") WHERE "sends"."status" in ('queued', 'sending', 'unknown');