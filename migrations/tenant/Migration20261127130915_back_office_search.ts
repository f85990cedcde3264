import { Migration } from '@mikro-orm/migrations';

export class Migration20261127130915_back_office_search extends Migration {

  override name = 'Migration20261127130915_back_office_search';

  override up(): void | Promise<void> {
    this.addSql(`alter table "guardian" add "search_text" text generated always as (replace(replace(lower(translate(coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || coalesce(email, ''), 'ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖòóôõöÙÚÛÜùúûüÝŸýÿ', 'aaaaaaaaaaaacceeeeeeeeiiiiiiiinnoooooooooouuuuuuuuyyyy')), 'œ', 'oe'), 'Œ', 'oe')) stored null, add "search_phones" text generated always as (regexp_replace(coalesce(phone_home, '') || '|' || coalesce(phone_mobile, '') || '|' || coalesce(phone_work, '') || '|' || extra_phones::text, '[^0-9|,]', '', 'g')) stored null, add "sort_name" text generated always as (replace(replace(lower(translate(last_name || ' ' || first_name, 'ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖòóôõöÙÚÛÜùúûüÝŸýÿ', 'aaaaaaaaaaaacceeeeeeeeiiiiiiiinnoooooooooouuuuuuuuyyyy')), 'œ', 'oe'), 'Œ', 'oe')) stored null;`);

    this.addSql(`alter table "pupil" add "search_text" text generated always as (replace(replace(lower(translate(coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || coalesce(email, ''), 'ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖòóôõöÙÚÛÜùúûüÝŸýÿ', 'aaaaaaaaaaaacceeeeeeeeiiiiiiiinnoooooooooouuuuuuuuyyyy')), 'œ', 'oe'), 'Œ', 'oe')) stored null, add "search_phones" text generated always as (regexp_replace(coalesce(phone_home, '') || '|' || coalesce(phone_mobile, ''), '[^0-9|]', '', 'g')) stored null, add "folded_last_name" text generated always as (replace(replace(lower(translate(last_name, 'ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖòóôõöÙÚÛÜùúûüÝŸýÿ', 'aaaaaaaaaaaacceeeeeeeeiiiiiiiinnoooooooooouuuuuuuuyyyy')), 'œ', 'oe'), 'Œ', 'oe')) stored not null, add "folded_first_name" text generated always as (replace(replace(lower(translate(first_name, 'ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖòóôõöÙÚÛÜùúûüÝŸýÿ', 'aaaaaaaaaaaacceeeeeeeeiiiiiiiinnoooooooooouuuuuuuuyyyy')), 'œ', 'oe'), 'Œ', 'oe')) stored not null;`);
    this.addSql(`create index "pupil_folded_last_name_folded_first_name_id_index" on "pupil" ("folded_last_name", "folded_first_name", "id");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "guardian" drop column "search_text", drop column "search_phones", drop column "sort_name";`);

    this.addSql(`drop index "pupil_folded_last_name_folded_first_name_id_index";`);
    this.addSql(`alter table "pupil" drop column "search_text", drop column "search_phones", drop column "folded_last_name", drop column "folded_first_name";`);
  }

}
