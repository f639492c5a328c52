CREATE TABLE "read_marks" (
	"account_id" text NOT NULL,
	"chat_id" text NOT NULL,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "read_marks_account_id_chat_id_pk" PRIMARY KEY("account_id","chat_id")
);
--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "search_vector" "tsvector" GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, coalesce(text, ''))) STORED;--> statement-breakpoint
CREATE INDEX "read_marks_due_idx" ON "read_marks" USING btree ("next_attempt_at");--> statement-breakpoint
CREATE INDEX "chats_search_idx" ON "chats" USING gin (to_tsvector('simple'::regconfig, coalesce(subject, '') || ' ' || coalesce(jsonb_path_query_array(attendees, '$[*].name')::text, '')));--> statement-breakpoint
CREATE INDEX "messages_search_idx" ON "messages" USING gin ("search_vector");