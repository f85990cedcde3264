import { Migration } from '@mikro-orm/migrations';

/**
 * When the family last saved its dossier, apart from `updated_at`, which a staff decision also
 * moves: accepting a dossier made it look registered on the day it was accepted. Existing rows
 * take their best known value: the last change for a dossier not yet decided, otherwise its
 * confirmation (or its creation, for a draft decided after the period).
 */
export class Migration20261127091000_preregistration_saved_at extends Migration {

  override name = 'Migration20261127091000_preregistration_saved_at';

  override up(): void | Promise<void> {
    this.addSql(`alter table "preregistration" add column "saved_at" timestamptz null;`);
    this.addSql(`update "preregistration" set "saved_at" = case when "decided_at" is null then "updated_at" else coalesce("confirmed_at", "created_at") end;`);
    this.addSql(`alter table "preregistration" alter column "saved_at" set not null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "preregistration" drop column "saved_at";`);
  }

}
