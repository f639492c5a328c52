CREATE TABLE "send_requests" (
	"account_id" text NOT NULL,
	"key" text NOT NULL,
	"local_id" text NOT NULL,
	"response" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "send_requests_account_id_key_pk" PRIMARY KEY("account_id","key")
);
--> statement-breakpoint
CREATE TABLE "sends" (
	"local_id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"chat_id" text NOT NULL,
	"text" text NOT NULL,
	"quote_id" text,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_expires_at" timestamp with time zone,
	"attempt_started_at" timestamp with time zone,
	"provider_message_id" text,
	"settled_by" text,
	"last_error" text,
	"last_status_code" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "local_id" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "send_status" text;--> statement-breakpoint
CREATE INDEX "sends_due_idx" ON "sends" USING btree ("next_attempt_at") WHERE "sends"."status" in ('queued', 'claimed', 'sending', 'unknown');--> statement-breakpoint
CREATE INDEX "sends_open_chat_idx" ON "sends" USING btree ("account_id","chat_id","created_at") WHERE "sends"."status" in ('sending', 'unknown');--> statement-breakpoint
CREATE UNIQUE INDEX "messages_local_id_idx" ON "messages" USING btree ("local_id") WHERE "messages"."local_id" is not null;