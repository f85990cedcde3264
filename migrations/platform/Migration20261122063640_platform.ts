import { Migration } from '@mikro-orm/migrations';

export class Migration20261122063640_platform extends Migration {

  override name = 'Migration20261122063640_platform';

  override up(): void | Promise<void> {
    this.addSql(`create schema if not exists "platform";`);
    this.addSql(`create table "platform"."tenant" ("slug" varchar(40) not null, "name" varchar(255) not null, "status" text not null default 'active', "created_at" timestamptz not null, "disabled_at" timestamptz null, primary key ("slug"));`);

    this.addSql(`alter table "platform"."tenant" add constraint "tenant_status_check" check ("status" in ('active', 'disabled'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "platform"."tenant" cascade;`);

    this.addSql(`drop schema if exists "platform";`);
  }

}
