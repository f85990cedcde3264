import { Migration } from '@mikro-orm/migrations';

export class Migration20261127133027_families_order extends Migration {

  override name = 'Migration20261127133027_families_order';

  override up(): void | Promise<void> {
    this.addSql(`create index "guardian_sort_name_family_id_index" on "guardian" ("sort_name", "family_id");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "guardian_sort_name_family_id_index";`);
  }

}
