import { Migration } from '@mikro-orm/migrations';

export class Migration20261122080607_sas extends Migration {

  override name = 'Migration20261122080607_sas';

  override up(): void | Promise<void> {
    this.addSql(`create table "audit_event" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "actor_id" int null, "actor_name" varchar(255) not null, "action" varchar(60) not null, "subject_type" varchar(40) not null, "subject_id" int not null, "details" jsonb not null);`);
    this.addSql(`create index "audit_event_subject_type_subject_id_index" on "audit_event" ("subject_type", "subject_id");`);

    this.addSql(`create table "change_request" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "family_id" int not null, "subject_type" text not null, "subject_id" int not null, "proposed_by_id" int null, "status" text not null default 'pending', "changes" jsonb not null, "decided_by_id" int null, "decided_at" timestamptz null);`);
    this.addSql(`create index "change_request_status_updated_at_index" on "change_request" ("status", "updated_at");`);
    this.addSql(`create index "change_request_subject_type_subject_id_index" on "change_request" ("subject_type", "subject_id");`);

    this.addSql(`alter table "audit_event" add constraint "audit_event_actor_id_foreign" foreign key ("actor_id") references "account" ("id") on delete set null;`);

    this.addSql(`alter table "change_request" add constraint "change_request_family_id_foreign" foreign key ("family_id") references "family" ("id") on delete cascade;`);
    this.addSql(`alter table "change_request" add constraint "change_request_proposed_by_id_foreign" foreign key ("proposed_by_id") references "account" ("id") on delete set null;`);
    this.addSql(`alter table "change_request" add constraint "change_request_decided_by_id_foreign" foreign key ("decided_by_id") references "account" ("id") on delete set null;`);
    this.addSql(`alter table "change_request" add constraint "change_request_subject_type_check" check ("subject_type" in ('guardian', 'pupil'));`);
    this.addSql(`alter table "change_request" add constraint "change_request_status_check" check ("status" in ('pending', 'decided'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "audit_event" cascade;`);
    this.addSql(`drop table if exists "change_request" cascade;`);
  }

}
