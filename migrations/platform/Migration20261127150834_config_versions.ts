import { Migration } from '@mikro-orm/migrations';

export class Migration20261127150834_config_versions extends Migration {

  override name = 'Migration20261127150834_config_versions';

  override up(): void | Promise<void> {
    this.addSql(`create table "platform"."tenant_config_version" ("id" serial primary key, "tenant_slug" varchar(40) not null, "number" int not null, "source" text not null, "comment" text not null, "author_id" int null, "author_name" varchar(255) not null, "restored_from" int null, "created_at" timestamptz not null);`);
    this.addSql(`alter table "platform"."tenant_config_version" add constraint "tenant_config_version_tenant_slug_number_unique" unique ("tenant_slug", "number");`);

    this.addSql(`create table "platform"."tenant_config_draft" ("id" serial primary key, "tenant_slug" varchar(40) not null, "base_number" int not null, "source" text not null, "origin" varchar(40) not null, "restored_from" int null, "author_id" int not null, "author_name" varchar(255) not null, "created_at" timestamptz not null);`);
    this.addSql(`create index "tenant_config_draft_tenant_slug_created_at_index" on "platform"."tenant_config_draft" ("tenant_slug", "created_at");`);

    this.addSql(`alter table "platform"."tenant" add "config_version" int null;`);

    this.addSql(`alter table "platform"."tenant_config_version" add constraint "tenant_config_version_tenant_slug_foreign" foreign key ("tenant_slug") references "platform"."tenant" ("slug") on delete cascade;`);

    this.addSql(`alter table "platform"."tenant_config_draft" add constraint "tenant_config_draft_tenant_slug_foreign" foreign key ("tenant_slug") references "platform"."tenant" ("slug") on delete cascade;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "platform"."tenant_config_version" cascade;`);
    this.addSql(`drop table if exists "platform"."tenant_config_draft" cascade;`);

    this.addSql(`alter table "platform"."tenant" drop column "config_version";`);
  }

}
