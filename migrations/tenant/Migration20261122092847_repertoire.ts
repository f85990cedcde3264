import { Migration } from '@mikro-orm/migrations';

export class Migration20261122092847_repertoire extends Migration {

  override name = 'Migration20261122092847_repertoire';

  override up(): void | Promise<void> {
    this.addSql(`create table "school_event" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "school_year_id" int not null, "title" varchar(255) not null, "held_on" date not null, "place" varchar(255) null);`);
    this.addSql(`create index "school_event_school_year_id_index" on "school_event" ("school_year_id");`);

    this.addSql(`create table "repertoire_entry" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "event_id" int not null, "pupil_id" int not null, "piece" varchar(255) not null, "author" varchar(255) null, "part" varchar(255) null);`);
    this.addSql(`create index "repertoire_entry_pupil_id_index" on "repertoire_entry" ("pupil_id");`);

    this.addSql(`alter table "school_event" add constraint "school_event_school_year_id_foreign" foreign key ("school_year_id") references "school_year" ("id");`);

    this.addSql(`alter table "repertoire_entry" add constraint "repertoire_entry_event_id_foreign" foreign key ("event_id") references "school_event" ("id") on delete cascade;`);
    this.addSql(`alter table "repertoire_entry" add constraint "repertoire_entry_pupil_id_foreign" foreign key ("pupil_id") references "pupil" ("id") on delete cascade;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "repertoire_entry" drop constraint "repertoire_entry_event_id_foreign";`);

    this.addSql(`drop table if exists "school_event" cascade;`);
    this.addSql(`drop table if exists "repertoire_entry" cascade;`);
  }

}
