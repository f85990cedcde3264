import { Migration } from '@mikro-orm/migrations';

/**
 * One word per decision everywhere (docs/glossary.md): a refused re-enrolment was "rejected", and
 * the sas' field decisions were "approved" and "rejected". Rows, field decisions kept in the change
 * requests and audited actions take the words the rest of the app uses: validated and refused.
 */
export class Migration20261127073732_one_spelling_for_decisions extends Migration {

  override name = 'Migration20261127073732_one_spelling_for_decisions';

  override up(): void | Promise<void> {
    this.addSql(`alter table "reenrolment" drop constraint "reenrolment_status_check";`);
    this.addSql(`update "reenrolment" set "status" = 'refused' where "status" = 'rejected';`);
    this.addSql(`alter table "reenrolment" add constraint "reenrolment_status_check" check ("status" in ('draft', 'declined', 'submitted', 'validated', 'refused'));`);
    this.addSql(`update "change_request" set "changes" = (select jsonb_object_agg(e.key, case e.value->>'decision' when 'approved' then jsonb_set(e.value, '{decision}', '"validated"') when 'rejected' then jsonb_set(e.value, '{decision}', '"refused"') else e.value end) from jsonb_each("changes") e) where "status" = 'decided' and "changes" <> '{}'::jsonb;`);
    this.addSql(`update "audit_event" set "action" = 'reenrolment.refused' where "action" = 'reenrolment.rejected';`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "reenrolment" drop constraint "reenrolment_status_check";`);
    this.addSql(`update "reenrolment" set "status" = 'rejected' where "status" = 'refused';`);
    this.addSql(`alter table "reenrolment" add constraint "reenrolment_status_check" check ("status" in ('draft', 'declined', 'submitted', 'validated', 'rejected'));`);
    this.addSql(`update "change_request" set "changes" = (select jsonb_object_agg(e.key, case e.value->>'decision' when 'validated' then jsonb_set(e.value, '{decision}', '"approved"') when 'refused' then jsonb_set(e.value, '{decision}', '"rejected"') else e.value end) from jsonb_each("changes") e) where "status" = 'decided' and "changes" <> '{}'::jsonb;`);
    this.addSql(`update "audit_event" set "action" = 'reenrolment.rejected' where "action" = 'reenrolment.refused';`);
  }

}
