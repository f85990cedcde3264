import { Migration } from '@mikro-orm/migrations';

export class Migration20261127122956_pupil_folded_names extends Migration {

  override name = 'Migration20261127122956_pupil_folded_names';

  override up(): void | Promise<void> {
    this.addSql(`alter table "pupil" add "folded_last_name" text generated always as (lower(translate(replace(replace(replace(replace(last_name, 'œ', 'oe'), 'Œ', 'oe'), 'æ', 'ae'), 'Æ', 'ae'), 'ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖòóôõöÙÚÛÜùúûüÝŸýÿ', 'AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOoooooUUUUuuuuYYyy'))) stored not null, add "folded_first_name" text generated always as (lower(translate(replace(replace(replace(replace(first_name, 'œ', 'oe'), 'Œ', 'oe'), 'æ', 'ae'), 'Æ', 'ae'), 'ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖòóôõöÙÚÛÜùúûüÝŸýÿ', 'AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOoooooUUUUuuuuYYyy'))) stored not null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "pupil" drop column "folded_last_name", drop column "folded_first_name";`);
  }

}
