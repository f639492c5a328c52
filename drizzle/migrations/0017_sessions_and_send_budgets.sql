CREATE TABLE "login_codes" (
	"code_hash" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "realtime_sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"account_ids" text[],
	"scopes" text[] NOT NULL,
	"origin" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "send_budgets" (
	"key" text PRIMARY KEY NOT NULL,
	"next_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "realtime_sessions_expires_idx" ON "realtime_sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "sends_open_account_idx" ON "sends" USING btree ("account_id") WHERE "sends"."status" in ('queued', 'sending', 'unknown');