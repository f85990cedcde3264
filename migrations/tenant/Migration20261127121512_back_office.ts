import { Migration } from '@mikro-orm/migrations';

export class Migration20261127121512_back_office extends Migration {

  override name = 'Migration20261127121512_back_office';

  override up(): void | Promise<void> {
    this.addSql(`alter table "account" drop constraint "account_role_check";`);
    // the one staff role of before becomes the secretariat; admins stay admins
    this.addSql(`update "account" set "role" = 'secretariat' where "role" = 'staff';`);
    this.addSql(`alter table "account" add constraint "account_role_check" check ("role" in ('family', 'teacher', 'secretariat', 'direction', 'admin'));`);

    this.addSql(`alter table "family" add "archived_at" timestamptz null, add "erased_at" timestamptz null;`);

    this.addSql(`alter table "course" add "slots" jsonb not null default '[]', add "room" varchar(100) null, add "capacity" int null, add "closed_at" timestamptz null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "account" drop constraint "account_role_check";`);
    this.addSql(`update "account" set "role" = 'staff' where "role" in ('secretariat', 'direction');`);
    this.addSql(`alter table "account" add constraint "account_role_check" check ("role" in ('family', 'teacher', 'staff', 'admin'));`);

    this.addSql(`alter table "course" drop column "slots", drop column "room", drop column "capacity", drop column "closed_at";`);

    this.addSql(`alter table "family" drop column "archived_at", drop column "erased_at";`);
  }

}
