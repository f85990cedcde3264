import { Migration } from '@mikro-orm/migrations';

export class Migration20261122095052_documents extends Migration {

  override name = 'Migration20261122095052_documents';

  override up(): void | Promise<void> {
    this.addSql(`create table "stored_file" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "file_name" varchar(255) not null, "content_type" varchar(40) not null, "size" int not null, "sha256" varchar(64) not null, "content" bytea not null);`);

    this.addSql(`create table "document_submission" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "family_id" int not null, "pupil_id" int null, "document_id" varchar(60) not null, "file_id" int not null, "state" text not null default 'pending', "reason" text null, "uploaded_by_id" int null, "decided_by_id" int null, "decided_at" timestamptz null, "valid_until" date null);`);
    this.addSql(`alter table "document_submission" add constraint "document_submission_file_id_unique" unique ("file_id");`);
    this.addSql(`create index "document_submission_family_id_document_id_index" on "document_submission" ("family_id", "document_id");`);
    this.addSql(`create index "document_submission_state_created_at_index" on "document_submission" ("state", "created_at");`);

    this.addSql(`alter table "document_submission" add constraint "document_submission_family_id_foreign" foreign key ("family_id") references "family" ("id") on delete cascade;`);
    this.addSql(`alter table "document_submission" add constraint "document_submission_pupil_id_foreign" foreign key ("pupil_id") references "pupil" ("id") on delete cascade;`);
    this.addSql(`alter table "document_submission" add constraint "document_submission_file_id_foreign" foreign key ("file_id") references "stored_file" ("id");`);
    this.addSql(`alter table "document_submission" add constraint "document_submission_uploaded_by_id_foreign" foreign key ("uploaded_by_id") references "account" ("id") on delete set null;`);
    this.addSql(`alter table "document_submission" add constraint "document_submission_decided_by_id_foreign" foreign key ("decided_by_id") references "account" ("id") on delete set null;`);
    this.addSql(`alter table "document_submission" add constraint "document_submission_state_check" check ("state" in ('pending', 'validated', 'refused'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "document_submission" drop constraint "document_submission_file_id_foreign";`);

    this.addSql(`drop table if exists "stored_file" cascade;`);
    this.addSql(`drop table if exists "document_submission" cascade;`);
  }

}
