package org.imagingconnect.hapi;

import ca.uhn.fhir.jpa.migrate.DriverTypeEnum;
import ca.uhn.fhir.jpa.migrate.HapiMigrationStorageSvc;
import ca.uhn.fhir.jpa.migrate.HapiMigrator;
import ca.uhn.fhir.jpa.migrate.MigrationResult;
import ca.uhn.fhir.jpa.migrate.SchemaMigrator;
import ca.uhn.fhir.jpa.migrate.dao.HapiMigrationDao;
import ca.uhn.fhir.jpa.migrate.tasks.HapiFhirJpaMigrationTasks;
import ca.uhn.fhir.util.VersionEnum;
import java.util.Set;
import javax.sql.DataSource;

/**
 * The database schema, kept by HAPI's own migration tasks (the ones `hapi-fhir-cli migrate-database`
 * runs), recorded in HAPI's migration table. An empty database gets HAPI's whole schema for this
 * release; an older one gets the tasks it has not had yet, data migrations included. HAPI's lock row
 * keeps two servers starting together from migrating at once. Hibernate never changes the schema.
 */
public final class SchemaMigration {

	/** HAPI's own name for it, so its CLI and this launcher see the same history. */
	public static final String MIGRATION_TABLE = SchemaMigrator.HAPI_FHIR_MIGRATION_TABLENAME;

	/** What one run did, for the log and for `migrate`'s one line. */
	public record Outcome(int tasksRun, int statements, String schemaVersion, String hapiVersion) {
		public String describe() {
			return "schema at HAPI " + schemaVersion + " (" + MIGRATION_TABLE + "), this server HAPI " + hapiVersion
					+ ": " + tasksRun + " migration tasks run now, " + statements + " SQL statements";
		}
	}

	private SchemaMigration() {}

	/** Runs every task of this HAPI release that the database has not had; throws on the first failure. */
	public static Outcome migrate(ServerSettings settings, DataSource dataSource) {
		DriverTypeEnum driver = driverType(settings);
		HapiMigrator migrator = new HapiMigrator(MIGRATION_TABLE, dataSource, driver);
		migrator.createMigrationTableIfRequired();
		// No flags: this launcher uses HAPI's default (non-partitioned) keys; heavyweight tasks (indexes
		// HAPI marks as optional on large tables) are skipped, as HAPI's CLI skips them by default.
		migrator.addTasks(new HapiFhirJpaMigrationTasks(Set.of()).getAllTasks(VersionEnum.values()));
		MigrationResult result = migrator.migrate();
		String schemaVersion = new HapiMigrationStorageSvc(new HapiMigrationDao(dataSource, driver, MIGRATION_TABLE))
				.getLatestAppliedVersion();
		Outcome outcome = new Outcome(
				result.succeededTasks.size(),
				result.executedStatements.size(),
				schemaVersion,
				VersionEnum.latestVersion().name());
		return outcome;
	}

	static DriverTypeEnum driverType(ServerSettings settings) {
		return settings.database == ServerSettings.Database.POSTGRES
				? DriverTypeEnum.POSTGRES_9_4
				: DriverTypeEnum.H2_EMBEDDED;
	}
}
