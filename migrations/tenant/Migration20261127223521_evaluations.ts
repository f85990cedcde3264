import { Migration } from '@mikro-orm/migrations';

export class Migration20261127223521_evaluations extends Migration {

  override name = 'Migration20261127223521_evaluations';

  override up(): void | Promise<void> {
    this.addSql(`alter table "evaluation" add "period" varchar(12) null, add "status" text not null default 'draft', add "published_at" timestamptz null, add "author_id" int null, add "level" varchar(40) null, add "criteria" jsonb not null default '[]', add "correction" text null, add "correction_requested_at" timestamptz null, add "correction_requested_by_id" int null;`);
    this.addSql(`alter table "evaluation" add constraint "evaluation_author_id_foreign" foreign key ("author_id") references "account" ("id") on delete set null;`);
    this.addSql(`alter table "evaluation" add constraint "evaluation_correction_requested_by_id_foreign" foreign key ("correction_requested_by_id") references "account" ("id") on delete set null;`);
    // the reports written before the register were given to families: published on their day, under
    // the code of the default periods (or of semesters) their term names; the first per course only,
    // so the uniqueness below holds, the others keep no period and still show under their term
    this.addSql(`update "evaluation" set "status" = 'published', "published_at" = "given_on"::timestamptz;`);
    this.addSql(`update "evaluation" e set "period" = m.code from (
      select id, case lower(trim(term))
        when '1er trimestre' then 'T1' when '2e trimestre' then 'T2' when '3e trimestre' then 'T3'
        when '1er semestre' then 'S1' when '2e semestre' then 'S2' end as code,
        row_number() over (partition by enrolment_id, lower(trim(term)) order by id) as n
      from "evaluation") m
      where m.id = e.id and m.n = 1 and m.code is not null;`);
    this.addSql(`create index "evaluation_period_status_index" on "evaluation" ("period", "status");`);
    this.addSql(`alter table "evaluation" add constraint "evaluation_enrolment_id_period_unique" unique ("enrolment_id", "period");`);
    this.addSql(`alter table "evaluation" add constraint "evaluation_status_check" check ("status" in ('draft', 'published'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "evaluation" drop constraint "evaluation_author_id_foreign";`);
    this.addSql(`alter table "evaluation" drop constraint "evaluation_correction_requested_by_id_foreign";`);

    this.addSql(`drop index "evaluation_period_status_index";`);
    this.addSql(`alter table "evaluation" drop constraint "evaluation_enrolment_id_period_unique";`);
    this.addSql(`alter table "evaluation" drop constraint "evaluation_status_check";`);
    this.addSql(`alter table "evaluation" drop column "period", drop column "status", drop column "published_at", drop column "author_id", drop column "level", drop column "criteria", drop column "correction", drop column "correction_requested_at", drop column "correction_requested_by_id";`);
  }

}
