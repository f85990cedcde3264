import { Migration } from '@mikro-orm/migrations';

export class Migration20261127224324_register_absences extends Migration {

  override name = 'Migration20261127224324_register_absences';

  override up(): void | Promise<void> {
    this.addSql(`drop table if exists "absence" cascade;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`create table "absence" ("id" serial primary key, "created_at" timestamptz(6) not null, "updated_at" timestamptz(6) not null, "enrolment_id" int4 not null, "occurred_on" date not null, "excused" bool not null default false, "reason" varchar(255) null);`);
    this.addSql(`create index "absence_enrolment_id_index" on "absence" ("enrolment_id");`);

    this.addSql(`alter table "absence" add constraint "absence_enrolment_id_foreign" foreign key ("enrolment_id") references "enrolment" ("id") on update no action on delete no action;`);
  }

}
