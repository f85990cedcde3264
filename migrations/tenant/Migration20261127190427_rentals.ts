import { Migration } from '@mikro-orm/migrations';

export class Migration20261127190427_rentals extends Migration {

  override name = 'Migration20261127190427_rentals';

  override up(): void | Promise<void> {
    this.addSql(`create table "rental_item" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "code" varchar(60) not null, "reference" varchar(40) not null);`);
    this.addSql(`alter table "rental_item" add constraint "rental_item_reference_unique" unique ("reference");`);

    this.addSql(`create table "rental" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "item_id" int not null, "family_id" int not null, "pupil_id" int null, "start_on" date not null, "end_on" date null, "deposit" int not null, "deposit_outcome" text null);`);
    this.addSql(`create index "rental_family_id_index" on "rental" ("family_id");`);
    this.addSql(`create index "rental_item_id_index" on "rental" ("item_id");`);

    this.addSql(`alter table "invoice_line" add "rental_id" int null;`);
    this.addSql(`alter table "invoice_line" add constraint "invoice_line_rental_id_foreign" foreign key ("rental_id") references "rental" ("id") on delete set null;`);

    this.addSql(`alter table "rental" add constraint "rental_item_id_foreign" foreign key ("item_id") references "rental_item" ("id");`);
    this.addSql(`alter table "rental" add constraint "rental_family_id_foreign" foreign key ("family_id") references "family" ("id");`);
    this.addSql(`alter table "rental" add constraint "rental_pupil_id_foreign" foreign key ("pupil_id") references "pupil" ("id") on delete set null;`);
    this.addSql(`alter table "rental" add constraint "rental_deposit_outcome_check" check ("deposit_outcome" in ('returned', 'kept'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "rental" drop constraint "rental_item_id_foreign";`);
    this.addSql(`alter table "invoice_line" drop constraint "invoice_line_rental_id_foreign";`);

    this.addSql(`drop table if exists "rental_item" cascade;`);
    this.addSql(`drop table if exists "rental" cascade;`);

    this.addSql(`alter table "invoice_line" drop column "rental_id";`);
  }

}
