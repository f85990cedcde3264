import { Migration } from '@mikro-orm/migrations';

/**
 * Uploaded files are PDF, JPEG or PNG: already compressed. Postgres would still try to compress
 * each one (pglz) before storing it out of line, for nothing; measured in the re-enrolment
 * benchmark's Postgres CPU per flow. EXTERNAL keeps them out of line, uncompressed. Existing rows
 * keep their storage until rewritten; the setting applies to new ones.
 */
export class Migration20261127084500_files_stored_uncompressed extends Migration {

  override name = 'Migration20261127084500_files_stored_uncompressed';

  override up(): void | Promise<void> {
    this.addSql(`alter table "stored_file" alter column "content" set storage external;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "stored_file" alter column "content" set storage extended;`);
  }

}
