import { Migration } from '@mikro-orm/migrations';

export class Migration20261122100447_reenrolment extends Migration {

  override name = 'Migration20261122100447_reenrolment';

  override up(): void | Promise<void> {
    this.addSql(`create table "reenrolment" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "family_id" int not null, "pupil_id" int not null, "school_year" varchar(9) not null, "status" text not null default 'draft', "step" varchar(20) null, "answers" jsonb not null default '{}', "updated_by_id" int null, "submitted_at" timestamptz null, "declined_at" timestamptz null, "decided_by_id" int null, "decided_at" timestamptz null, "reason" text null);`);
    this.addSql(`create index "reenrolment_school_year_status_index" on "reenrolment" ("school_year", "status");`);
    this.addSql(`alter table "reenrolment" add constraint "reenrolment_pupil_id_school_year_unique" unique ("pupil_id", "school_year");`);

    this.addSql(`alter table "reenrolment" add constraint "reenrolment_family_id_foreign" foreign key ("family_id") references "family" ("id") on delete cascade;`);
    this.addSql(`alter table "reenrolment" add constraint "reenrolment_pupil_id_foreign" foreign key ("pupil_id") references "pupil" ("id") on delete cascade;`);
    this.addSql(`alter table "reenrolment" add constraint "reenrolment_updated_by_id_foreign" foreign key ("updated_by_id") references "account" ("id") on delete set null;`);
    this.addSql(`alter table "reenrolment" add constraint "reenrolment_decided_by_id_foreign" foreign key ("decided_by_id") references "account" ("id") on delete set null;`);
    this.addSql(`alter table "reenrolment" add constraint "reenrolment_status_check" check ("status" in ('draft', 'declined', 'submitted', 'validated', 'rejected'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "reenrolment" cascade;`);
  }

}
