import { Migration } from '@mikro-orm/migrations';

export class Migration20261127150935_administration extends Migration {

  override name = 'Migration20261127150935_administration';

  override up(): void | Promise<void> {
    this.addSql(`create index "audit_event_created_at_id_index" on "audit_event" ("created_at", "id");`);
    this.addSql(`create index "audit_event_actor_id_created_at_index" on "audit_event" ("actor_id", "created_at");`);

    this.addSql(`create index "outbox_mail_created_at_id_index" on "outbox_mail" ("created_at", "id");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "audit_event_created_at_id_index";`);
    this.addSql(`drop index "audit_event_actor_id_created_at_index";`);

    this.addSql(`drop index "outbox_mail_created_at_id_index";`);
  }

}
