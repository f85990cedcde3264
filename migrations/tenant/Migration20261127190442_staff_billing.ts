import { Migration } from '@mikro-orm/migrations';

export class Migration20261127190442_staff_billing extends Migration {

  override name = 'Migration20261127190442_staff_billing';

  override up(): void | Promise<void> {
    this.addSql(`create table "invoice_reminder" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "invoice_id" int not null, "sent_on" date not null, "sent_by_id" int null, "recipients" text not null);`);
    this.addSql(`alter table "invoice_reminder" add constraint "invoice_reminder_invoice_id_sent_on_unique" unique ("invoice_id", "sent_on");`);

    this.addSql(`create table "outbox_attachment" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "mail_id" int not null, "file_name" varchar(255) not null, "content_type" varchar(100) not null, "content" bytea not null);`);
    this.addSql(`create index "outbox_attachment_mail_id_index" on "outbox_attachment" ("mail_id");`);

    this.addSql(`alter table "invoice_reminder" add constraint "invoice_reminder_invoice_id_foreign" foreign key ("invoice_id") references "invoice" ("id") on delete cascade;`);
    this.addSql(`alter table "invoice_reminder" add constraint "invoice_reminder_sent_by_id_foreign" foreign key ("sent_by_id") references "account" ("id") on delete set null;`);

    this.addSql(`alter table "outbox_attachment" add constraint "outbox_attachment_mail_id_foreign" foreign key ("mail_id") references "outbox_mail" ("id") on delete cascade;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "invoice_reminder" cascade;`);
    this.addSql(`drop table if exists "outbox_attachment" cascade;`);
  }

}
