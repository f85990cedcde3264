import { Migration } from '@mikro-orm/migrations';

export class Migration20261127124109_pupil_folded_names extends Migration {

  override name = 'Migration20261127124109_pupil_folded_names';

  override up(): void | Promise<void> {
    this.addSql(`alter table "pupil" add "folded_last_name" text generated always as (lower(translate(replace(replace(replace(replace(last_name, 'œ', 'oe'), 'Œ', 'oe'), 'æ', 'ae'), 'Æ', 'ae'), 'ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖòóôõöÙÚÛÜùúûüÝŸýÿ', 'AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOoooooUUUUuuuuYYyy'))) stored not null, add "folded_first_name" text generated always as (lower(translate(replace(replace(replace(replace(first_name, 'œ', 'oe'), 'Œ', 'oe'), 'æ', 'ae'), 'Æ', 'ae'), 'ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖòóôõöÙÚÛÜùúûüÝŸýÿ', 'AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOoooooUUUUuuuuYYyy'))) stored not null;`);
    this.addSql(`create index "pupil_folded_last_name_folded_first_name_id_index" on "pupil" ("folded_last_name", "folded_first_name", "id");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "pupil_folded_last_name_folded_first_name_id_index";`);
    this.addSql(`alter table "pupil" drop column "folded_last_name", drop column "folded_first_name";`);
  }

}
