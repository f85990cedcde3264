import { Migration } from '@mikro-orm/migrations';

export class Migration20261127122019_school_year_copies extends Migration {

  override name = 'Migration20261127122019_school_year_copies';

  override up(): void | Promise<void> {
    this.addSql(`alter table "course" add "copied_from_id" int null;`);
    this.addSql(`alter table "course" add constraint "course_copied_from_id_unique" unique ("copied_from_id");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "course" drop constraint "course_copied_from_id_unique";`);
    this.addSql(`alter table "course" drop column "copied_from_id";`);
  }

}
