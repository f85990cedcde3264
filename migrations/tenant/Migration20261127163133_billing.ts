import { Migration } from '@mikro-orm/migrations';

export class Migration20261127163133_billing extends Migration {

  override name = 'Migration20261127163133_billing';

  override up(): void | Promise<void> {
    this.addSql(`create table "billing_counter" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "sequence" varchar(1) not null, "year" smallint not null, "last" int not null);`);
    this.addSql(`alter table "billing_counter" add constraint "billing_counter_sequence_year_unique" unique ("sequence", "year");`);

    this.addSql(`create table "invoice" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "family_id" int not null, "kind" text not null, "school_year" varchar(20) not null, "state" text not null default 'draft', "number" varchar(20) null, "issued_at" timestamptz null, "payment_mode" varchar(255) null, "total" int not null, "corrects_id" int null, "reason" text null);`);
    this.addSql(`alter table "invoice" add constraint "invoice_number_unique" unique ("number");`);
    this.addSql(`create index "invoice_family_id_kind_index" on "invoice" ("family_id", "kind");`);

    this.addSql(`create table "instalment" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "invoice_id" int not null, "due_on" date not null, "amount" int not null);`);
    this.addSql(`create index "instalment_invoice_id_due_on_index" on "instalment" ("invoice_id", "due_on");`);

    this.addSql(`create table "payment" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "family_id" int not null, "invoice_id" int not null, "instalment_id" int null, "amount" int not null, "method" text not null, "received_on" date not null, "reference" varchar(255) null, "recorded_by_id" int null, "receipt_number" varchar(20) not null);`);
    this.addSql(`alter table "payment" add constraint "payment_receipt_number_unique" unique ("receipt_number");`);
    this.addSql(`create index "payment_family_id_index" on "payment" ("family_id");`);
    this.addSql(`create index "payment_invoice_id_index" on "payment" ("invoice_id");`);

    this.addSql(`create table "invoice_line" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "invoice_id" int not null, "position" smallint not null, "pupil_id" int null, "label" varchar(255) not null, "detail" varchar(255) null, "amount" int not null, "kind" text not null);`);
    this.addSql(`alter table "invoice_line" add constraint "invoice_line_invoice_id_position_unique" unique ("invoice_id", "position");`);

    this.addSql(`alter table "invoice" add constraint "invoice_family_id_foreign" foreign key ("family_id") references "family" ("id");`);
    this.addSql(`alter table "invoice" add constraint "invoice_corrects_id_foreign" foreign key ("corrects_id") references "invoice" ("id") on delete set null;`);
    this.addSql(`alter table "invoice" add constraint "invoice_kind_check" check ("kind" in ('cotisation', 'location', 'avoir'));`);
    this.addSql(`alter table "invoice" add constraint "invoice_state_check" check ("state" in ('draft', 'issued'));`);

    this.addSql(`alter table "instalment" add constraint "instalment_invoice_id_foreign" foreign key ("invoice_id") references "invoice" ("id") on delete cascade;`);

    this.addSql(`alter table "payment" add constraint "payment_family_id_foreign" foreign key ("family_id") references "family" ("id");`);
    this.addSql(`alter table "payment" add constraint "payment_invoice_id_foreign" foreign key ("invoice_id") references "invoice" ("id");`);
    this.addSql(`alter table "payment" add constraint "payment_instalment_id_foreign" foreign key ("instalment_id") references "instalment" ("id") on delete set null;`);
    this.addSql(`alter table "payment" add constraint "payment_recorded_by_id_foreign" foreign key ("recorded_by_id") references "account" ("id") on delete set null;`);
    this.addSql(`alter table "payment" add constraint "payment_method_check" check ("method" in ('cheque', 'cash', 'holidayVouchers', 'culturePass', 'transfer', 'card', 'directDebit', 'payfip', 'treasury'));`);

    this.addSql(`alter table "invoice_line" add constraint "invoice_line_invoice_id_foreign" foreign key ("invoice_id") references "invoice" ("id") on delete cascade;`);
    this.addSql(`alter table "invoice_line" add constraint "invoice_line_pupil_id_foreign" foreign key ("pupil_id") references "pupil" ("id") on delete set null;`);
    this.addSql(`alter table "invoice_line" add constraint "invoice_line_kind_check" check ("kind" in ('tuition', 'fee', 'reduction', 'rental', 'deposit', 'proration'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "invoice" drop constraint "invoice_corrects_id_foreign";`);
    this.addSql(`alter table "instalment" drop constraint "instalment_invoice_id_foreign";`);
    this.addSql(`alter table "payment" drop constraint "payment_invoice_id_foreign";`);
    this.addSql(`alter table "invoice_line" drop constraint "invoice_line_invoice_id_foreign";`);
    this.addSql(`alter table "payment" drop constraint "payment_instalment_id_foreign";`);

    this.addSql(`drop table if exists "billing_counter" cascade;`);
    this.addSql(`drop table if exists "invoice" cascade;`);
    this.addSql(`drop table if exists "instalment" cascade;`);
    this.addSql(`drop table if exists "payment" cascade;`);
    this.addSql(`drop table if exists "invoice_line" cascade;`);
  }

}
