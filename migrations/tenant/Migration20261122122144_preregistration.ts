import { Migration } from '@mikro-orm/migrations';

export class Migration20261122122144_preregistration extends Migration {

  override name = 'Migration20261122122144_preregistration';

  override up(): void | Promise<void> {
    this.addSql(`create table "preregistration" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "token_hash" varchar(64) not null, "status" text not null default 'draft', "email" varchar(254) not null, "guardians" jsonb not null, "applicants" jsonb not null, "revision" smallint not null default 1, "confirmed_at" timestamptz null, "decided_by_id" int null, "decided_at" timestamptz null, "reason" text null, "family_id" int null);`);
    this.addSql(`alter table "preregistration" add constraint "preregistration_token_hash_unique" unique ("token_hash");`);
    this.addSql(`create index "preregistration_status_index" on "preregistration" ("status");`);
    this.addSql(`create index "preregistration_email_index" on "preregistration" ("email");`);

    this.addSql(`alter table "preregistration" add constraint "preregistration_decided_by_id_foreign" foreign key ("decided_by_id") references "account" ("id") on delete set null;`);
    this.addSql(`alter table "preregistration" add constraint "preregistration_family_id_foreign" foreign key ("family_id") references "family" ("id") on delete set null;`);
    this.addSql(`alter table "preregistration" add constraint "preregistration_status_check" check ("status" in ('draft', 'confirmed', 'accepted', 'waitlisted', 'refused'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "preregistration" cascade;`);
  }

}
