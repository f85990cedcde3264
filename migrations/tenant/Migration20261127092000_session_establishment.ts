import { Migration } from '@mikro-orm/migrations';

/**
 * The site (establishment) a person chose in the sign-in form's Site field, kept with the session
 * so that the portal can show that site's courses and address first.
 */
export class Migration20261127092000_session_establishment extends Migration {

  override name = 'Migration20261127092000_session_establishment';

  override up(): void | Promise<void> {
    this.addSql(`alter table "session" add column "establishment" varchar(40) null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "session" drop column "establishment";`);
  }

}
