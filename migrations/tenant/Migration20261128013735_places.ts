import { Migration } from '@mikro-orm/migrations';

export class Migration20261128013735_places extends Migration {

  override name = 'Migration20261128013735_places';

  override up(): void | Promise<void> {
    this.addSql(`create table "offer_item" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "school_year_id" int not null, "label" varchar(120) not null, "discipline" varchar(255) not null, "course_ids" jsonb not null default '[]', "seats" smallint not null, "min_age" smallint null, "max_age" smallint null, "levels" jsonb not null default '[]', "accepts" text not null default 'both', "description" text null, "published_at" timestamptz null);`);
    this.addSql(`create index "offer_item_school_year_id_index" on "offer_item" ("school_year_id");`);

    this.addSql(`create table "place_request" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "item_id" int not null, "source" text not null, "pupil_id" int null, "family_id" int null, "reenrolment_id" int null, "preregistration_id" int null, "applicant" smallint null, "name" varchar(255) not null, "rank" smallint not null, "requested_at" timestamptz not null, "state" text not null default 'waiting', "queue_order" int null, "facts" jsonb null, "offered_at" timestamptz null, "answer_by" timestamptz null, "answered_at" timestamptz null, "token_hash" varchar(64) null);`);
    this.addSql(`create index "place_request_family_id_index" on "place_request" ("family_id");`);
    this.addSql(`create index "place_request_preregistration_id_index" on "place_request" ("preregistration_id");`);
    this.addSql(`alter table "place_request" add constraint "place_request_token_hash_unique" unique ("token_hash");`);
    this.addSql(`create index "place_request_item_id_state_index" on "place_request" ("item_id", "state");`);
    this.addSql(`alter table "place_request" add constraint "place_request_item_id_pupil_id_unique" unique ("item_id", "pupil_id");`);
    this.addSql(`alter table "place_request" add constraint "place_request_item_id_preregistration_id_applicant_unique" unique ("item_id", "preregistration_id", "applicant");`);

    this.addSql(`create table "place_allocation" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "school_year_id" int not null, "item_id" int null, "seed" varchar(64) not null, "rules" jsonb not null, "status" text not null default 'proposed', "order" jsonb not null, "placements" jsonb not null, "computed" jsonb not null, "changes" jsonb not null default '[]', "created_by_id" int null, "confirmed_by_id" int null, "confirmed_at" timestamptz null);`);

    this.addSql(`alter table "offer_item" add constraint "offer_item_school_year_id_foreign" foreign key ("school_year_id") references "school_year" ("id");`);
    this.addSql(`alter table "offer_item" add constraint "offer_item_accepts_check" check ("accepts" in ('reenrolment', 'preregistration', 'both'));`);

    this.addSql(`alter table "place_request" add constraint "place_request_item_id_foreign" foreign key ("item_id") references "offer_item" ("id") on delete cascade;`);
    this.addSql(`alter table "place_request" add constraint "place_request_pupil_id_foreign" foreign key ("pupil_id") references "pupil" ("id") on delete cascade;`);
    this.addSql(`alter table "place_request" add constraint "place_request_family_id_foreign" foreign key ("family_id") references "family" ("id") on delete cascade;`);
    this.addSql(`alter table "place_request" add constraint "place_request_reenrolment_id_foreign" foreign key ("reenrolment_id") references "reenrolment" ("id") on delete cascade;`);
    this.addSql(`alter table "place_request" add constraint "place_request_preregistration_id_foreign" foreign key ("preregistration_id") references "preregistration" ("id") on delete cascade;`);
    this.addSql(`alter table "place_request" add constraint "place_request_source_check" check ("source" in ('reenrolment', 'preregistration'));`);
    this.addSql(`alter table "place_request" add constraint "place_request_state_check" check ("state" in ('waiting', 'proposed', 'accepted', 'declined', 'expired', 'waitlisted', 'closed', 'withdrawn'));`);

    this.addSql(`alter table "place_allocation" add constraint "place_allocation_school_year_id_foreign" foreign key ("school_year_id") references "school_year" ("id");`);
    this.addSql(`alter table "place_allocation" add constraint "place_allocation_item_id_foreign" foreign key ("item_id") references "offer_item" ("id") on delete cascade;`);
    this.addSql(`alter table "place_allocation" add constraint "place_allocation_created_by_id_foreign" foreign key ("created_by_id") references "account" ("id") on delete set null;`);
    this.addSql(`alter table "place_allocation" add constraint "place_allocation_confirmed_by_id_foreign" foreign key ("confirmed_by_id") references "account" ("id") on delete set null;`);
    this.addSql(`alter table "place_allocation" add constraint "place_allocation_status_check" check ("status" in ('proposed', 'confirmed', 'discarded'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "place_request" drop constraint "place_request_item_id_foreign";`);
    this.addSql(`alter table "place_allocation" drop constraint "place_allocation_item_id_foreign";`);

    this.addSql(`drop table if exists "offer_item" cascade;`);
    this.addSql(`drop table if exists "place_request" cascade;`);
    this.addSql(`drop table if exists "place_allocation" cascade;`);
  }

}
