import { Migration } from '@mikro-orm/migrations';

export class Migration20261127223520_repertoire_pieces extends Migration {

  override name = 'Migration20261127223520_repertoire_pieces';

  override up(): void | Promise<void> {
    this.addSql(`create table "repertoire_piece" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "pupil_id" int not null, "course_id" int null, "added_by_id" int null, "title" varchar(200) not null, "composer" varchar(150) null, "period" varchar(30) null, "started_on" date not null, "state" text not null default 'in_progress', "performed_on" date null);`);
    this.addSql(`create index "repertoire_piece_pupil_id_index" on "repertoire_piece" ("pupil_id");`);

    this.addSql(`alter table "repertoire_piece" add constraint "repertoire_piece_pupil_id_foreign" foreign key ("pupil_id") references "pupil" ("id") on delete cascade;`);
    this.addSql(`alter table "repertoire_piece" add constraint "repertoire_piece_course_id_foreign" foreign key ("course_id") references "course" ("id") on delete set null;`);
    this.addSql(`alter table "repertoire_piece" add constraint "repertoire_piece_added_by_id_foreign" foreign key ("added_by_id") references "teacher" ("id") on delete set null;`);
    this.addSql(`alter table "repertoire_piece" add constraint "repertoire_piece_state_check" check ("state" in ('in_progress', 'performed'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "repertoire_piece" cascade;`);
  }

}
