import { Migration } from '@mikro-orm/migrations';

export class Migration20261127223101_lessons extends Migration {

  override name = 'Migration20261127223101_lessons';

  override up(): void | Promise<void> {
    this.addSql(`create table "lesson" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "course_id" int not null, "on" date not null, "slot" smallint not null, "cancelled_at" timestamptz null, "cancel_reason" varchar(300) null, "moved_on" date null, "moved_start" varchar(5) null, "moved_end" varchar(5) null, "moved_room" varchar(100) null, "changed_by_id" int null, "called_at" timestamptz null, "called_by_id" int null);`);
    this.addSql(`alter table "lesson" add constraint "lesson_course_id_on_slot_unique" unique ("course_id", "on", "slot");`);

    this.addSql(`create table "attendance" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "lesson_id" int not null, "enrolment_id" int not null, "status" text not null, "recorded_by_id" int null, "mailed_at" timestamptz null);`);
    this.addSql(`create index "attendance_enrolment_id_index" on "attendance" ("enrolment_id");`);
    this.addSql(`alter table "attendance" add constraint "attendance_lesson_id_enrolment_id_unique" unique ("lesson_id", "enrolment_id");`);

    this.addSql(`create table "absence_notice" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "lesson_id" int not null, "enrolment_id" int not null, "reason" varchar(300) not null, "announced_by_id" int null);`);
    this.addSql(`create index "absence_notice_enrolment_id_index" on "absence_notice" ("enrolment_id");`);
    this.addSql(`alter table "absence_notice" add constraint "absence_notice_lesson_id_enrolment_id_unique" unique ("lesson_id", "enrolment_id");`);

    this.addSql(`create table "course_replacement" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "course_id" int not null, "teacher_id" int not null, "starts_on" date not null, "ends_on" date not null, "created_by_id" int null);`);
    this.addSql(`create index "course_replacement_course_id_index" on "course_replacement" ("course_id");`);
    this.addSql(`create index "course_replacement_teacher_id_index" on "course_replacement" ("teacher_id");`);

    this.addSql(`alter table "lesson" add constraint "lesson_course_id_foreign" foreign key ("course_id") references "course" ("id") on delete cascade;`);
    this.addSql(`alter table "lesson" add constraint "lesson_changed_by_id_foreign" foreign key ("changed_by_id") references "account" ("id") on delete set null;`);
    this.addSql(`alter table "lesson" add constraint "lesson_called_by_id_foreign" foreign key ("called_by_id") references "account" ("id") on delete set null;`);

    this.addSql(`alter table "attendance" add constraint "attendance_lesson_id_foreign" foreign key ("lesson_id") references "lesson" ("id") on delete cascade;`);
    this.addSql(`alter table "attendance" add constraint "attendance_enrolment_id_foreign" foreign key ("enrolment_id") references "enrolment" ("id") on delete cascade;`);
    this.addSql(`alter table "attendance" add constraint "attendance_recorded_by_id_foreign" foreign key ("recorded_by_id") references "account" ("id") on delete set null;`);
    this.addSql(`alter table "attendance" add constraint "attendance_status_check" check ("status" in ('present', 'absent', 'late', 'excused'));`);

    this.addSql(`alter table "absence_notice" add constraint "absence_notice_lesson_id_foreign" foreign key ("lesson_id") references "lesson" ("id") on delete cascade;`);
    this.addSql(`alter table "absence_notice" add constraint "absence_notice_enrolment_id_foreign" foreign key ("enrolment_id") references "enrolment" ("id") on delete cascade;`);
    this.addSql(`alter table "absence_notice" add constraint "absence_notice_announced_by_id_foreign" foreign key ("announced_by_id") references "account" ("id") on delete set null;`);

    this.addSql(`alter table "course_replacement" add constraint "course_replacement_course_id_foreign" foreign key ("course_id") references "course" ("id") on delete cascade;`);
    this.addSql(`alter table "course_replacement" add constraint "course_replacement_teacher_id_foreign" foreign key ("teacher_id") references "teacher" ("id") on delete cascade;`);
    this.addSql(`alter table "course_replacement" add constraint "course_replacement_created_by_id_foreign" foreign key ("created_by_id") references "account" ("id") on delete set null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "attendance" drop constraint "attendance_lesson_id_foreign";`);
    this.addSql(`alter table "absence_notice" drop constraint "absence_notice_lesson_id_foreign";`);

    this.addSql(`drop table if exists "lesson" cascade;`);
    this.addSql(`drop table if exists "attendance" cascade;`);
    this.addSql(`drop table if exists "absence_notice" cascade;`);
    this.addSql(`drop table if exists "course_replacement" cascade;`);
  }

}
