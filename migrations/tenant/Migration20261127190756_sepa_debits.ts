import { Migration } from '@mikro-orm/migrations';

export class Migration20261127190756_sepa_debits extends Migration {

  override name = 'Migration20261127190756_sepa_debits';

  override up(): void | Promise<void> {
    this.addSql(`create table "debit_batch" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "month" varchar(7) not null, "message_id" varchar(35) not null, "count" int not null, "total" int not null, "file" text not null, "exported_by_id" int null);`);
    this.addSql(`alter table "debit_batch" add constraint "debit_batch_month_unique" unique ("month");`);

    this.addSql(`create table "sepa_mandate" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "family_id" int not null, "reference" varchar(35) not null, "signed_on" date not null, "holder" varchar(70) not null, "iban_ciphertext" text not null, "iban_iv" text not null, "iban_tag" text not null, "iban_masked" varchar(50) not null, "bic" varchar(11) not null, "state" text not null default 'active', "revoked_at" timestamptz null, "recorded_by_id" int null);`);
    this.addSql(`alter table "sepa_mandate" add constraint "sepa_mandate_reference_unique" unique ("reference");`);
    this.addSql(`create index "sepa_mandate_family_id_state_index" on "sepa_mandate" ("family_id", "state");`);

    this.addSql(`create table "debit" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "batch_id" int not null, "payment_id" int not null, "mandate_id" int not null, "instalment_id" int not null, "sequence_type" text not null, "end_to_end_id" varchar(35) not null, "collected_on" date not null);`);
    this.addSql(`alter table "debit" add constraint "debit_payment_id_unique" unique ("payment_id");`);
    this.addSql(`create index "debit_batch_id_index" on "debit" ("batch_id");`);
    this.addSql(`create index "debit_mandate_id_index" on "debit" ("mandate_id");`);

    this.addSql(`alter table "payment" add "rejected_on" date null, add "rejection_reason" varchar(4) null;`);

    this.addSql(`alter table "debit_batch" add constraint "debit_batch_exported_by_id_foreign" foreign key ("exported_by_id") references "account" ("id") on delete set null;`);

    this.addSql(`alter table "sepa_mandate" add constraint "sepa_mandate_family_id_foreign" foreign key ("family_id") references "family" ("id");`);
    this.addSql(`alter table "sepa_mandate" add constraint "sepa_mandate_recorded_by_id_foreign" foreign key ("recorded_by_id") references "account" ("id") on delete set null;`);
    this.addSql(`alter table "sepa_mandate" add constraint "sepa_mandate_state_check" check ("state" in ('active', 'revoked'));`);

    this.addSql(`alter table "debit" add constraint "debit_batch_id_foreign" foreign key ("batch_id") references "debit_batch" ("id");`);
    this.addSql(`alter table "debit" add constraint "debit_payment_id_foreign" foreign key ("payment_id") references "payment" ("id");`);
    this.addSql(`alter table "debit" add constraint "debit_mandate_id_foreign" foreign key ("mandate_id") references "sepa_mandate" ("id");`);
    this.addSql(`alter table "debit" add constraint "debit_instalment_id_foreign" foreign key ("instalment_id") references "instalment" ("id");`);
    this.addSql(`alter table "debit" add constraint "debit_sequence_type_check" check ("sequence_type" in ('FRST', 'RCUR'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "debit" drop constraint "debit_batch_id_foreign";`);
    this.addSql(`alter table "debit" drop constraint "debit_mandate_id_foreign";`);

    this.addSql(`drop table if exists "debit_batch" cascade;`);
    this.addSql(`drop table if exists "sepa_mandate" cascade;`);
    this.addSql(`drop table if exists "debit" cascade;`);

    this.addSql(`alter table "payment" drop column "rejected_on", drop column "rejection_reason";`);
  }

}
