import { Migration } from '@mikro-orm/migrations';

export class Migration20261127190503_payfip extends Migration {

  override name = 'Migration20261127190503_payfip';

  override up(): void | Promise<void> {
    this.addSql(`create table "online_payment" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "invoice_id" int not null, "amount" int not null, "refdet" varchar(30) not null, "started_at" timestamptz not null, "started_by_id" int null, "state" text not null default 'pending', "result" varchar(1) null, "returned_at" timestamptz null, "authorisation" varchar(30) null, "transaction_at" varchar(30) null, "payment_id" int null);`);
    this.addSql(`alter table "online_payment" add constraint "online_payment_refdet_unique" unique ("refdet");`);
    this.addSql(`create index "online_payment_invoice_id_index" on "online_payment" ("invoice_id");`);

    this.addSql(`create table "treasury_line" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "identity" varchar(100) not null, "payment_id" int not null, "reference" varchar(255) not null, "debtor" varchar(255) null, "file_name" varchar(255) null);`);
    this.addSql(`alter table "treasury_line" add constraint "treasury_line_identity_unique" unique ("identity");`);

    this.addSql(`alter table "online_payment" add constraint "online_payment_invoice_id_foreign" foreign key ("invoice_id") references "invoice" ("id");`);
    this.addSql(`alter table "online_payment" add constraint "online_payment_started_by_id_foreign" foreign key ("started_by_id") references "account" ("id") on delete set null;`);
    this.addSql(`alter table "online_payment" add constraint "online_payment_payment_id_foreign" foreign key ("payment_id") references "payment" ("id") on delete set null;`);
    this.addSql(`alter table "online_payment" add constraint "online_payment_state_check" check ("state" in ('pending', 'confirmed', 'failed', 'cancelled'));`);

    this.addSql(`alter table "treasury_line" add constraint "treasury_line_payment_id_foreign" foreign key ("payment_id") references "payment" ("id");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "online_payment" cascade;`);
    this.addSql(`drop table if exists "treasury_line" cascade;`);
  }

}
