import { Migration } from '@mikro-orm/migrations';

export class Migration20261122063642_tenant extends Migration {

  override name = 'Migration20261122063642_tenant';

  override up(): void | Promise<void> {
    this.addSql(`create table "family" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "resident" boolean not null default true, "quotient_bracket" varchar(255) null, "payment_mode" varchar(255) null);`);

    this.addSql(`create table "guardian" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "family_id" int not null, "rank" smallint not null, "civility" varchar(255) null, "last_name" varchar(255) not null, "first_name" varchar(255) not null, "birth_date" date null, "birth_place" varchar(255) null, "birth_department" varchar(255) null, "address" varchar(255) null, "postal_code" varchar(255) null, "city" varchar(255) null, "phone_home" varchar(255) null, "phone_mobile" varchar(255) null, "phone_work" varchar(255) null, "email" varchar(255) null, "family_situation" varchar(255) null, "socio_professional_category" varchar(255) null, "profession" varchar(255) null, "extra_phones" jsonb not null default '[]');`);
    this.addSql(`alter table "guardian" add constraint "guardian_family_id_rank_unique" unique ("family_id", "rank");`);

    this.addSql(`create table "pupil" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "family_id" int not null, "civility" varchar(255) null, "last_name" varchar(255) not null, "first_name" varchar(255) not null, "birth_date" date null, "birth_place" varchar(255) null, "birth_department" varchar(255) null, "use_guardian_address" boolean not null default true, "address" varchar(255) null, "postal_code" varchar(255) null, "city" varchar(255) null, "phone_home" varchar(255) null, "phone_mobile" varchar(255) null, "email" varchar(255) null, "school_level" varchar(255) null, "school" varchar(255) null, "image_rights" boolean null, "exit_authorization" boolean null, "emergency_contact" varchar(255) null, "emergency_phone" varchar(255) null);`);
    this.addSql(`create index "pupil_family_id_index" on "pupil" ("family_id");`);

    this.addSql(`create table "school_year" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "label" varchar(9) not null, "starts_on" date not null, "ends_on" date not null, "current" boolean not null default false);`);
    this.addSql(`alter table "school_year" add constraint "school_year_label_unique" unique ("label");`);

    this.addSql(`create table "teacher" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "last_name" varchar(255) not null, "first_name" varchar(255) not null, "email" varchar(255) null);`);

    this.addSql(`create table "course" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "school_year_id" int not null, "discipline" varchar(255) not null, "establishment" varchar(255) not null, "name" varchar(255) not null, "cycle" varchar(255) null, "teacher_id" int null, "slot" varchar(255) null);`);
    this.addSql(`create index "course_school_year_id_index" on "course" ("school_year_id");`);
    this.addSql(`create index "course_teacher_id_index" on "course" ("teacher_id");`);

    this.addSql(`create table "enrolment" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "pupil_id" int not null, "course_id" int not null, "active" boolean not null default true);`);
    this.addSql(`create index "enrolment_course_id_index" on "enrolment" ("course_id");`);
    this.addSql(`alter table "enrolment" add constraint "enrolment_pupil_id_course_id_unique" unique ("pupil_id", "course_id");`);

    this.addSql(`create table "evaluation" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "enrolment_id" int not null, "term" varchar(255) not null, "given_on" date not null, "appreciation" text not null, "grade" varchar(255) null);`);
    this.addSql(`create index "evaluation_enrolment_id_index" on "evaluation" ("enrolment_id");`);

    this.addSql(`create table "absence" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "enrolment_id" int not null, "occurred_on" date not null, "excused" boolean not null default false, "reason" varchar(255) null);`);
    this.addSql(`create index "absence_enrolment_id_index" on "absence" ("enrolment_id");`);

    this.addSql(`alter table "guardian" add constraint "guardian_family_id_foreign" foreign key ("family_id") references "family" ("id");`);

    this.addSql(`alter table "pupil" add constraint "pupil_family_id_foreign" foreign key ("family_id") references "family" ("id");`);

    this.addSql(`alter table "course" add constraint "course_school_year_id_foreign" foreign key ("school_year_id") references "school_year" ("id");`);
    this.addSql(`alter table "course" add constraint "course_teacher_id_foreign" foreign key ("teacher_id") references "teacher" ("id") on delete set null;`);

    this.addSql(`alter table "enrolment" add constraint "enrolment_pupil_id_foreign" foreign key ("pupil_id") references "pupil" ("id");`);
    this.addSql(`alter table "enrolment" add constraint "enrolment_course_id_foreign" foreign key ("course_id") references "course" ("id");`);

    this.addSql(`alter table "evaluation" add constraint "evaluation_enrolment_id_foreign" foreign key ("enrolment_id") references "enrolment" ("id");`);

    this.addSql(`alter table "absence" add constraint "absence_enrolment_id_foreign" foreign key ("enrolment_id") references "enrolment" ("id");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "guardian" drop constraint "guardian_family_id_foreign";`);
    this.addSql(`alter table "pupil" drop constraint "pupil_family_id_foreign";`);
    this.addSql(`alter table "enrolment" drop constraint "enrolment_pupil_id_foreign";`);
    this.addSql(`alter table "course" drop constraint "course_school_year_id_foreign";`);
    this.addSql(`alter table "course" drop constraint "course_teacher_id_foreign";`);
    this.addSql(`alter table "enrolment" drop constraint "enrolment_course_id_foreign";`);
    this.addSql(`alter table "evaluation" drop constraint "evaluation_enrolment_id_foreign";`);
    this.addSql(`alter table "absence" drop constraint "absence_enrolment_id_foreign";`);

    this.addSql(`drop table if exists "family" cascade;`);
    this.addSql(`drop table if exists "guardian" cascade;`);
    this.addSql(`drop table if exists "pupil" cascade;`);
    this.addSql(`drop table if exists "school_year" cascade;`);
    this.addSql(`drop table if exists "teacher" cascade;`);
    this.addSql(`drop table if exists "course" cascade;`);
    this.addSql(`drop table if exists "enrolment" cascade;`);
    this.addSql(`drop table if exists "evaluation" cascade;`);
    this.addSql(`drop table if exists "absence" cascade;`);
  }

}
