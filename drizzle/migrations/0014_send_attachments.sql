-- Files uploaded with a send, kept until the send is sent or failed (docs/sending.md).
CREATE TABLE "send_attachments" (
	"local_id" text NOT NULL,
	"position" integer NOT NULL,
	"filename" text NOT NULL,
	"mimetype" text NOT NULL,
	"size" integer NOT NULL,
	"content" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "send_attachments_local_id_position_pk" PRIMARY KEY("local_id","position")
);
--> statement-breakpoint
ALTER TABLE "send_attachments" ADD CONSTRAINT "send_attachments_local_id_sends_local_id_fk" FOREIGN KEY ("local_id") REFERENCES "public"."sends"("local_id") ON DELETE cascade ON UPDATE no action;