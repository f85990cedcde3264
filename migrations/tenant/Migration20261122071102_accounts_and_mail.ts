import { Migration } from '@mikro-orm/migrations';

export class Migration20261122071102_accounts_and_mail extends Migration {

  override name = 'Migration20261122071102_accounts_and_mail';

  override up(): void | Promise<void> {
    this.addSql(`create table "account" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "identifiant" varchar(100) not null, "role" text not null, "email" varchar(254) not null, "display_name" varchar(255) not null, "password_hash" varchar(255) null, "disabled" boolean not null default false, "last_sign_in_at" timestamptz null);`);
    this.addSql(`alter table "account" add constraint "account_identifiant_unique" unique ("identifiant");`);

    this.addSql(`create table "outbox_mail" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "uuid" uuid not null, "recipient" varchar(254) not null, "subject" varchar(255) not null, "text" text not null, "html" text not null, "template" varchar(255) not null, "status" text not null default 'pending', "attempts" smallint not null default 0, "next_attempt_at" timestamptz not null, "last_error" text null, "sent_at" timestamptz null);`);
    this.addSql(`alter table "outbox_mail" add constraint "outbox_mail_uuid_unique" unique ("uuid");`);
    this.addSql(`create index "outbox_mail_status_next_attempt_at_index" on "outbox_mail" ("status", "next_attempt_at");`);

    this.addSql(`create table "password_token" ("id" serial primary key, "created_at" timestamptz not null, "updated_at" timestamptz not null, "token_hash" varchar(64) not null, "account_id" int not null, "purpose" text not null, "expires_at" timestamptz not null, "used_at" timestamptz null);`);
    this.addSql(`alter table "password_token" add constraint "password_token_token_hash_unique" unique ("token_hash");`);
    this.addSql(`create index "password_token_account_id_index" on "password_token" ("account_id");`);

    this.addSql(`create table "session" ("id_hash" varchar(64) not null, "account_id" int not null, "created_at" timestamptz not null, "last_seen_at" timestamptz not null, "expires_at" timestamptz not null, "user_agent" varchar(300) null, primary key ("id_hash"));`);
    this.addSql(`create index "session_account_id_index" on "session" ("account_id");`);

    this.addSql(`alter table "guardian" add "account_id" int null;`);
    this.addSql(`alter table "guardian" add constraint "guardian_account_id_foreign" foreign key ("account_id") references "account" ("id") on delete set null;`);
    this.addSql(`alter table "guardian" add constraint "guardian_account_id_unique" unique ("account_id");`);

    this.addSql(`alter table "teacher" add "account_id" int null;`);
    this.addSql(`alter table "teacher" add constraint "teacher_account_id_foreign" foreign key ("account_id") references "account" ("id") on delete set null;`);
    this.addSql(`alter table "teacher" add constraint "teacher_account_id_unique" unique ("account_id");`);

    this.addSql(`alter table "account" add constraint "account_role_check" check ("role" in ('family', 'teacher', 'staff', 'admin'));`);

    this.addSql(`alter table "outbox_mail" add constraint "outbox_mail_status_check" check ("status" in ('pending', 'sent', 'failed'));`);

    this.addSql(`alter table "password_token" add constraint "password_token_account_id_foreign" foreign key ("account_id") references "account" ("id") on delete cascade;`);
    this.addSql(`alter table "password_token" add constraint "password_token_purpose_check" check ("purpose" in ('reset', 'invitation'));`);

    this.addSql(`alter table "session" add constraint "session_account_id_foreign" foreign key ("account_id") references "account" ("id") on delete cascade;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "guardian" drop constraint "guardian_account_id_foreign";`);
    this.addSql(`alter table "password_token" drop constraint "password_token_account_id_foreign";`);
    this.addSql(`alter table "session" drop constraint "session_account_id_foreign";`);
    this.addSql(`alter table "teacher" drop constraint "teacher_account_id_foreign";`);

    this.addSql(`drop table if exists "account" cascade;`);
    this.addSql(`drop table if exists "outbox_mail" cascade;`);
    this.addSql(`drop table if exists "password_token" cascade;`);
    this.addSql(`drop table if exists "session" cascade;`);

    this.addSql(`alter table "guardian" drop constraint "guardian_account_id_unique";`);
    this.addSql(`alter table "guardian" drop column "account_id";`);

    this.addSql(`alter table "teacher" drop constraint "teacher_account_id_unique";`);
    this.addSql(`alter table "teacher" drop column "account_id";`);
  }

}
