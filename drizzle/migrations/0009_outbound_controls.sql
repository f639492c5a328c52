CREATE TABLE "outbound_pauses" (
	"scope" text PRIMARY KEY NOT NULL,
	"paused_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "endpoints" ADD COLUMN "signature_scheme" text DEFAULT 'standard-webhooks' NOT NULL;--> statement-breakpoint
ALTER TABLE "endpoints" ADD COLUMN "signature_header" text;--> statement-breakpoint
ALTER TABLE "endpoints" ADD COLUMN "retry_schedule" integer[];--> statement-breakpoint
ALTER TABLE "endpoints" ADD COLUMN "paused_at" timestamp with time zone;