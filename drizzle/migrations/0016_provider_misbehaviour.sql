ALTER TABLE "messages" ADD COLUMN "send_failure_reason" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "send_error" text;--> statement-breakpoint
ALTER TABLE "sends" ADD COLUMN "unconfirmed_resends" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_runs" ADD COLUMN "skipped" integer DEFAULT 0 NOT NULL;